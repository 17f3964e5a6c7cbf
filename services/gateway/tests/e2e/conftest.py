"""The whole platform behind the gateway: the four services and the gateway, each a
real app (migrations, consumers, relays) served by uvicorn on a loopback port in
this event loop, on the real engines. Tests talk only to the gateway.

Consumer groups are random per session, so these apps never share partitions with
services started by `make up`; tenants are random per test.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from chorus_content.app import build_spec as content_spec
from chorus_content.settings import ContentSettings
from chorus_devstack.apps import serve_on_loopback, settings_for
from chorus_devstack.fleet import reserve_port
from chorus_devstack.kafka_groups import start_groups_at_end
from chorus_gateway.app import create_gateway_app
from chorus_gateway.bootstrap import bootstrap, parser
from chorus_gateway.settings import GatewaySettings
from chorus_metrics.app import build_spec as metrics_spec
from chorus_metrics.settings import MetricsSettings
from chorus_platform.app import create_service_app
from chorus_rewards.app import create_app as create_rewards_app
from chorus_rewards.settings import RewardsSettings
from chorus_sharing.app import create_app as create_sharing_app
from chorus_sharing.settings import SharingSettings
from fastapi import FastAPI

PASSWORD = "correct horse battery"


@dataclass
class Stack:
    gateway: str
    client: httpx.AsyncClient
    apps: dict[str, FastAPI] = field(default_factory=dict)


# Module scope: the platform runs only while an e2e module does. Session scope kept
# its metrics flusher (0.2 s interval) and consumers alive through every later suite,
# emitting for other tests' shares and reading their topics.
@pytest.fixture(scope="module")
async def stack(
    postgres_dsn: str,
    kafka_bootstrap: str,
    redis_url: str,
    internal_token_secret: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Stack]:
    engines = {"database_url": postgres_dsn, "kafka_bootstrap": kafka_bootstrap,
               "redis_url": redis_url, "internal_token_secret": internal_token_secret}  # fmt: skip
    # Reserved (bound) now: the apps need each other's URLs before any of them starts.
    names = ("content", "sharing", "metrics", "rewards", "gateway")
    socks = {name: reserve_port() for name in names}
    ports = {name: sock.getsockname()[1] for name, sock in socks.items()}
    url = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    run = uuid.uuid4().hex[:8]
    apps = {
        "content": create_service_app(content_spec(settings_for(
            ContentSettings, **engines, scheduler_poll_interval=0.2))),
        "sharing": create_sharing_app(settings_for(
            SharingSettings, **engines, content_url=url["content"], click_salt="e2e-salt",
            public_link_base=url["gateway"], consumer_group=f"sharing-e2e-{run}",
            scheduler_interval=0.2)),
        "metrics": create_service_app(metrics_spec(settings_for(
            MetricsSettings, **engines, shares_group=f"metrics-shares-e2e-{run}",
            ingest_group=f"metrics-ingest-e2e-{run}", content_group=f"metrics-content-e2e-{run}",
            flush_min_interval=0.2))),
        "rewards": create_rewards_app(settings_for(
            RewardsSettings, **engines, consumer_group=f"rewards-e2e-{run}",
            consumer_batch_timeout_ms=20)),
    }  # fmt: skip
    await start_groups_at_end(kafka_bootstrap, [f"{g}-e2e-{run}" for g in (
        "sharing", "metrics-shares", "metrics-ingest", "metrics-content", "rewards")])  # fmt: skip
    key_path: Path = tmp_path_factory.mktemp("gateway-e2e") / "signing-key.pem"
    gateway_settings = settings_for(
        GatewaySettings, **engines, content_url=url["content"], sharing_url=url["sharing"],
        metrics_url=url["metrics"], rewards_url=url["rewards"], public_url=url["gateway"],
        dev_key_path=key_path, principal_cache_seconds=0.5,
    )  # fmt: skip
    apps["gateway"] = create_gateway_app(gateway_settings)
    async with contextlib.AsyncExitStack() as running:
        for name in ("content", "sharing", "metrics", "rewards", "gateway"):
            await running.enter_async_context(serve_on_loopback(apps[name], socks[name]))
        client = await running.enter_async_context(
            httpx.AsyncClient(base_url=url["gateway"], timeout=30)
        )
        runtime = apps["gateway"].state.ctx.extras["gateway"]
        await runtime.catalog.refresh()  # the services are up now: a complete document
        yield Stack(url["gateway"], client, apps)


class Org:
    """A tenant with one signed-in person per role, all through the gateway."""

    def __init__(self, stack: Stack, tenant_id: str, admin: dict[str, str]) -> None:
        self.stack = stack
        self.client = stack.client
        self.id = tenant_id
        self.headers: dict[str, dict[str, str]] = {"admin": admin}
        self.ids: dict[str, str] = {}

    async def add(self, role: str, name: str | None = None, teams: tuple[str, ...] = ()) -> str:
        email = f"{name or role}-{uuid.uuid4().hex[:6]}@example.com"
        made = await self.client.post(
            "/v1/directory/people",
            json={"email": email, "display_name": (name or role).title(), "roles": [role],
                  "team_ids": list(teams), "password": PASSWORD},
            headers=self.headers["admin"],
        )  # fmt: skip
        assert made.status_code == 201, made.text
        login = await self.client.post(
            "/v1/auth/login", json={"tenant_id": self.id, "email": email, "password": PASSWORD}
        )
        assert login.status_code == 200, login.text
        key = name or role
        self.headers[key] = {"Authorization": f"Bearer {login.json()['access_token']}"}
        self.ids[key] = made.json()["id"]
        return key

    async def key(self, *scopes: str) -> dict[str, str]:
        made = await self.client.post(
            "/v1/directory/api-keys", json={"name": "e2e", "scopes": list(scopes)},
            headers=self.headers["admin"],
        )  # fmt: skip
        assert made.status_code == 201, made.text
        return {"X-API-Key": made.json()["secret"]}


async def new_org(stack: Stack, settings: GatewaySettings | None = None) -> Org:
    tenant_id = f"t-{uuid.uuid4().hex[:12]}"
    email = f"admin-{tenant_id}@example.com"
    args = parser().parse_args(["bootstrap-tenant", "--name", "E2E Co", "--admin-email", email,
                                "--tenant-id", tenant_id, "--team", "Sales"])  # fmt: skip
    gateway_settings: Any = settings or stack.apps["gateway"].state.ctx.settings
    result = await bootstrap(args, gateway_settings)
    login = await stack.client.post("/v1/auth/login", json={
        "tenant_id": tenant_id, "email": email, "password": result["admin_password"]})  # fmt: skip
    assert login.status_code == 200, login.text
    org = Org(stack, tenant_id, {"Authorization": f"Bearer {login.json()['access_token']}"})
    org.ids["admin"] = str(result["admin_id"])
    org.ids["team"] = str(result["teams"][0])  # type: ignore[index]
    return org
