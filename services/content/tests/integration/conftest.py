"""One content service app for the session, on the real engines, and per-test tenants.

Tests isolate by random tenant ids (never by resetting state), so they share
one running app: its lifespan (pool, migrations, relay, scheduler) starts once.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import pytest
from chorus_content.app import build_spec
from chorus_content.settings import ContentSettings
from chorus_devstack.apps import identity_headers, serve_app, settings_for
from chorus_platform.app import create_service_app
from chorus_platform.identity import Role

POLL_INTERVAL = 0.2


@pytest.fixture(scope="session")
def content_settings(
    postgres_dsn: str, kafka_bootstrap: str, redis_url: str, internal_token_secret: str
) -> ContentSettings:
    return settings_for(
        ContentSettings,
        database_url=postgres_dsn,
        kafka_bootstrap=kafka_bootstrap,
        redis_url=redis_url,
        internal_token_secret=internal_token_secret,
        scheduler_poll_interval=POLL_INTERVAL,
    )


@pytest.fixture(scope="session")
async def client(content_settings: ContentSettings) -> AsyncIterator[httpx.AsyncClient]:
    async with serve_app(create_service_app(build_spec(content_settings))) as served:
        yield served


@pytest.fixture(scope="session")
async def db(client: httpx.AsyncClient, postgres_dsn: str) -> AsyncIterator[asyncpg.Connection]:
    """A plain connection to the content schema, to check what was (not) written."""
    conn = await asyncpg.connect(postgres_dsn, server_settings={"search_path": "content"})
    try:
        yield conn
    finally:
        await conn.close()


@dataclass(frozen=True)
class Tenant:
    """A fresh tenant with one person per role (and a second approver)."""

    id: str
    secret: str

    def as_(
        self, principal: str, roles: Iterable[Role] = (), *, teams: Iterable[str] = ()
    ) -> dict[str, str]:
        return identity_headers(self.secret, self.id, principal, roles, team_ids=teams)

    @property
    def editor(self) -> dict[str, str]:
        return self.as_("ed", [Role.EDITOR])

    @property
    def approver(self) -> dict[str, str]:
        return self.as_("ap", [Role.APPROVER])

    @property
    def admin(self) -> dict[str, str]:
        return self.as_("ad", [Role.ADMIN])

    def advocate(self, *teams: str) -> dict[str, str]:
        return self.as_("adv", [Role.ADVOCATE], teams=teams)


def new_tenant(secret: str) -> Tenant:
    return Tenant(f"t{secrets.token_hex(6)}", secret)


@pytest.fixture
def tenant(internal_token_secret: str) -> Tenant:
    return new_tenant(internal_token_secret)


@pytest.fixture
def other_tenant(internal_token_secret: str) -> Tenant:
    return new_tenant(internal_token_secret)


ItemBody = Callable[..., dict[str, Any]]


@pytest.fixture
def item_body() -> ItemBody:
    """A valid create body; keyword arguments override its fields."""
    return _item_body


def _item_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "Chorus 2.0 is here",
        "body": "Our biggest release yet.",
        "link_url": "https://example.com/launch",
        "category": "product_announcements",
        "language": "en",
        "campaign_hashtags": ["#Launch"],
        "suggested_captions": {"linkedin": ["Proud of the team!", "Big day for us."]},
    }
    body.update(overrides)
    return body
