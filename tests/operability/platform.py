"""The five services on loopback ports in this event loop, and traffic through them.

Each service is its real app (migrations, relays, consumers) served by uvicorn, so
Prometheus scrapes them over real HTTP. They share one process and therefore one
metrics registry: every target exposes every service's series, told apart by their
`service` label (and business counters by the job they are asked under).
Consumer groups are random per run and start at the end of every topic, so other
suites' events (poison included) never reach them.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from chorus_content.app import build_spec as content_spec
from chorus_content.settings import ContentSettings
from chorus_devstack.apps import serve_on_loopback, settings_for
from chorus_devstack.fleet import reserve_port
from chorus_devstack.kafka_groups import start_groups_at_end
from chorus_devstack.waiting import eventually
from chorus_events.bus import ensure_topics
from chorus_events.contracts.registry import DLQ_TOPICS, TOPICS
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

SERVICES = ("content", "sharing", "metrics", "rewards", "gateway")
PASSWORD = "correct horse battery"
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0"


async def start_at_end(bootstrap_servers: str, groups: list[str]) -> None:
    """Commit every topic's end offsets for `groups` before their consumers start.

    The topics are created first: on a fresh Kafka a group that joins while its
    topic is being created can be assigned nothing until its next metadata refresh.
    """
    await ensure_topics(bootstrap_servers, [*TOPICS, *DLQ_TOPICS], partitions=3)
    await start_groups_at_end(bootstrap_servers, groups)


@dataclass
class Platform:
    ports: dict[str, int]
    groups: dict[str, str]  # consumer group -> service
    apps: dict[str, FastAPI] = field(default_factory=dict)

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    def service_on_port(self, port: int) -> str | None:
        return next((s for s, p in self.ports.items() if p == port), None)


@contextlib.asynccontextmanager
async def running_platform(*, engines: dict[str, str], key_dir: Path) -> AsyncIterator[Platform]:
    # Reserved (bound) now: the apps need each other's URLs before any of them starts.
    socks = {name: reserve_port() for name in SERVICES}
    ports = {name: sock.getsockname()[1] for name, sock in socks.items()}
    url = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    run = uuid.uuid4().hex[:8]
    groups = {f"sharing-ops-{run}": "sharing", f"metrics-shares-ops-{run}": "metrics",
              f"metrics-ingest-ops-{run}": "metrics", f"metrics-content-ops-{run}": "metrics",
              f"rewards-ops-{run}": "rewards"}  # fmt: skip
    apps = {
        "content": create_service_app(content_spec(settings_for(
            ContentSettings, **engines, scheduler_poll_interval=0.2))),
        "sharing": create_sharing_app(settings_for(
            SharingSettings, **engines, content_url=url["content"], click_salt="ops-salt",
            public_link_base=url["gateway"], consumer_group=f"sharing-ops-{run}",
            scheduler_interval=0.2)),
        "metrics": create_service_app(metrics_spec(settings_for(
            MetricsSettings, **engines, shares_group=f"metrics-shares-ops-{run}",
            ingest_group=f"metrics-ingest-ops-{run}", content_group=f"metrics-content-ops-{run}",
            flush_min_interval=0.2))),
        "rewards": create_rewards_app(settings_for(
            RewardsSettings, **engines, consumer_group=f"rewards-ops-{run}",
            consumer_batch_timeout_ms=20)),
        "gateway": create_gateway_app(settings_for(
            GatewaySettings, **engines, content_url=url["content"], sharing_url=url["sharing"],
            metrics_url=url["metrics"], rewards_url=url["rewards"], public_url=url["gateway"],
            dev_key_path=key_dir / "signing-key.pem", principal_cache_seconds=0.5)),
    }  # fmt: skip
    await start_at_end(engines["kafka_bootstrap"], list(groups))
    async with contextlib.AsyncExitStack() as running:
        for name in SERVICES:
            await running.enter_async_context(serve_on_loopback(apps[name], socks[name]))
        await apps["gateway"].state.ctx.extras["gateway"].catalog.refresh()
        yield Platform(ports, groups, apps)


class Tenant:
    """A tenant with an admin, an editor, an approver and an advocate, via the gateway."""

    def __init__(self, client: httpx.AsyncClient, tenant_id: str, admin: str) -> None:
        self.client = client
        self.id = tenant_id
        self.headers: dict[str, dict[str, str]] = {"admin": {"Authorization": f"Bearer {admin}"}}

    async def add(self, role: str, team: str) -> None:
        email = f"{role}-{uuid.uuid4().hex[:6]}@example.com"
        made = await self.client.post("/v1/directory/people", json={
            "email": email, "display_name": role.title(), "roles": [role],
            "team_ids": [team], "password": PASSWORD}, headers=self.headers["admin"])  # fmt: skip
        assert made.status_code == 201, made.text
        login = await self.client.post(
            "/v1/auth/login", json={"tenant_id": self.id, "email": email, "password": PASSWORD}
        )
        assert login.status_code == 200, login.text
        self.headers[role] = {"Authorization": f"Bearer {login.json()['access_token']}"}


async def new_tenant(platform: Platform, client: httpx.AsyncClient) -> Tenant:
    tenant_id = f"t-{uuid.uuid4().hex[:12]}"
    email = f"admin-{tenant_id}@example.com"
    args = parser().parse_args(["bootstrap-tenant", "--name", "Ops Co", "--admin-email", email,
                                "--tenant-id", tenant_id, "--team", "Sales"])  # fmt: skip
    made = await bootstrap(args, platform.apps["gateway"].state.ctx.settings)
    login = await client.post("/v1/auth/login", json={
        "tenant_id": tenant_id, "email": email, "password": made["admin_password"]})  # fmt: skip
    assert login.status_code == 200, login.text
    tenant = Tenant(client, tenant_id, login.json()["access_token"])
    team = str(made["teams"][0])  # type: ignore[index]
    for role in ("editor", "approver", "advocate"):
        await tenant.add(role, team)
    return tenant


async def approved_content(tenant: Tenant) -> str:
    """An item created, submitted and approved: content.approved goes out."""
    client, editor = tenant.client, tenant.headers["editor"]
    made = await client.post("/v1/content/items", json={
        "title": "We launched", "body": "Read all about it", "category": "product_announcements",
        "language": "en", "link_url": "https://example.com/launch"}, headers=editor)  # fmt: skip
    assert made.status_code == 201, made.text
    item_id: str = made.json()["id"]
    submitted = await client.post(f"/v1/content/items/{item_id}/submit", headers=editor)
    assert submitted.status_code == 200, submitted.text
    approved = await client.post(f"/v1/content/items/{item_id}/approve",
                                 headers=tenant.headers["approver"])  # fmt: skip
    assert approved.status_code == 200, approved.text
    return item_id


async def in_feed(tenant: Tenant, item_id: str) -> None:
    """Wait until sharing consumed content.approved (the feed lists the item)."""

    async def listed() -> bool:
        feed = await tenant.client.get("/v1/feed", headers=tenant.headers["advocate"])
        return item_id in {i["content_id"] for i in feed.json().get("items", [])}

    await eventually(listed, timeout=60, interval=0.2, what="the approved item in the feed")


async def share(tenant: Tenant, item_id: str) -> str:
    """A share posted now (share.posted goes out); returns its tracked-link code."""
    made = await tenant.client.post(
        "/v1/shares",
        json={"content_id": item_id, "network": "linkedin"},
        headers=tenant.headers["advocate"],
    )
    assert made.status_code == 201, made.text
    code: str = made.json()["link"]["code"]
    return code


async def click(tenant: Tenant, code: str) -> None:
    visitor = {"user-agent": BROWSER, "x-forwarded-for": "203.0.113.9"}
    clicked = await tenant.client.get(f"/l/{code}", headers=visitor)
    assert clicked.status_code == 302, clicked.text
