"""The rewards service on the real engines: one app per session, tenants per test.

The app consumes from topics with a random prefix (`RewardsSettings.topic_prefix`),
so it never reads events other test sessions or services produced, and tests
isolate themselves from each other by random tenant ids.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from chorus_devstack.apps import identity_headers, serve_app, settings_for
from chorus_platform.identity import PrincipalKind, Role
from chorus_rewards.app import create_app
from chorus_rewards.runtime import EXTRAS_KEY, RewardsRuntime
from chorus_rewards.settings import RewardsSettings
from fastapi import FastAPI


@dataclass
class RewardsApp:
    app: FastAPI
    client: httpx.AsyncClient
    settings: RewardsSettings
    secret: str

    @property
    def runtime(self) -> RewardsRuntime:
        found: RewardsRuntime = self.app.state.ctx.extras[EXTRAS_KEY]
        return found

    def headers(
        self,
        tenant: str,
        principal: str = "admin-1",
        roles: Iterable[Role | str] = (Role.ADMIN,),
        **kwargs: Any,
    ) -> dict[str, str]:
        return identity_headers(self.secret, tenant, principal, roles, **kwargs)

    def advocate(self, tenant: str, advocate: str) -> dict[str, str]:
        return identity_headers(self.secret, tenant, advocate, (Role.ADVOCATE,))

    def api_key(self, tenant: str, scopes: Iterable[str]) -> dict[str, str]:
        return identity_headers(
            self.secret, tenant, "key-1", (), kind=PrincipalKind.API_KEY, scopes=scopes
        )


def rewards_settings(
    postgres_dsn: str, kafka_bootstrap: str, redis_url: str, secret: str, **overrides: Any
) -> RewardsSettings:
    prefix = overrides.pop("topic_prefix", f"t{uuid.uuid4().hex[:8]}.")
    return settings_for(
        RewardsSettings,
        database_url=postgres_dsn,
        kafka_bootstrap=kafka_bootstrap,
        redis_url=redis_url,
        internal_token_secret=secret,
        topic_prefix=prefix,
        consumer_group=f"rewards-test-{uuid.uuid4().hex[:8]}",
        consumer_batch_timeout_ms=20,
        scheduler_interval=0.2,
        contest_freeze_grace=1.0,
        **overrides,
    )


@pytest.fixture(scope="session")
async def rewards(
    postgres_dsn: str, kafka_bootstrap: str, redis_url: str, internal_token_secret: str
) -> AsyncIterator[RewardsApp]:
    settings = rewards_settings(postgres_dsn, kafka_bootstrap, redis_url, internal_token_secret)
    app = create_app(settings)
    async with serve_app(app) as client:
        yield RewardsApp(app, client, settings, internal_token_secret)


@pytest.fixture
def tenant() -> str:
    return f"t-{uuid.uuid4().hex[:12]}"
