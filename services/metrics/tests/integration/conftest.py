"""The metrics service running in-process against the real engines, and a feed of
what it publishes on `engagement.updated`.

One app per session (its consumer groups are random, started at the end of the
topics so history from other runs is not replayed); tests isolate themselves by
random tenant ids.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from chorus_devstack.apps import identity_headers, serve_app, settings_for
from chorus_events.bus import ensure_topics
from chorus_events.contracts import (
    CLICK_RECORDED,
    CONTENT_APPROVED,
    CONTENT_RETIRED,
    ENGAGEMENT_REPORTED,
    ENGAGEMENT_UPDATED,
    SHARE_POSTED,
    ClickRecorded,
    EngagementUpdated,
    Network,
    SharePosted,
)
from chorus_events.contracts.registry import EventSpec
from chorus_events.envelope import PoisonMessage, decode, encode
from chorus_metrics.app import build_spec
from chorus_metrics.settings import MetricsSettings
from chorus_platform.app import create_service_app
from chorus_platform.identity import PrincipalKind, Role
from pydantic import BaseModel

INPUT_SPECS = (SHARE_POSTED, CLICK_RECORDED, ENGAGEMENT_REPORTED, CONTENT_APPROVED, CONTENT_RETIRED)


async def _start_groups_at_end(bootstrap: str, groups: dict[str, list[str]]) -> None:
    """Commit end offsets for brand-new groups so they skip other runs' history."""
    for group, topics in groups.items():
        consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False
        )
        await consumer.start()
        try:
            partitions = [
                TopicPartition(t, p)
                for t in topics
                for p in (consumer.partitions_for_topic(t) or await _partitions(consumer, t))
            ]
            consumer.assign(partitions)
            ends = await consumer.end_offsets(partitions)
            await consumer.commit({tp: off for tp, off in ends.items()})
        finally:
            await consumer.stop()


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> set[int]:
    await consumer._client.force_metadata_update()
    return consumer.partitions_for_topic(topic) or set()


@dataclass
class UpdatesFeed:
    """Every `engagement.updated` published since the session started, by tenant."""

    by_tenant: dict[str, list[EngagementUpdated]] = field(default_factory=lambda: defaultdict(list))

    def of(self, tenant: str) -> list[EngagementUpdated]:
        return list(self.by_tenant.get(tenant, []))

    def latest(self, tenant: str, share_id: str) -> EngagementUpdated | None:
        events = [e for e in self.of(tenant) if e.share_id == share_id]
        return max(events, key=lambda e: e.sequence) if events else None


@dataclass
class Metrics:
    """Handles a test needs: the HTTP client, the database, producing inputs."""

    client: httpx.AsyncClient
    pool: asyncpg.Pool
    producer: AIOKafkaProducer
    secret: str
    updates: UpdatesFeed
    app: Any

    def admin(self, tenant: str) -> dict[str, str]:
        return identity_headers(self.secret, tenant, "admin-1", [Role.ADMIN])

    def api_key(self, tenant: str, *scopes: str) -> dict[str, str]:
        return identity_headers(
            self.secret, tenant, "key-1", [], kind=PrincipalKind.API_KEY, scopes=scopes
        )

    async def produce(self, spec: EventSpec[Any], *payloads: BaseModel) -> None:
        for payload in payloads:
            record = encode(spec, payload, source="/chorus/test")
            await self.producer.send(
                record.topic, value=record.value, key=record.key, headers=record.headers
            )
        await self.producer.flush()

    async def fetchval(self, sql: str, *args: Any) -> Any:
        return await self.pool.fetchval(sql, *args)


def metrics_settings(
    postgres_dsn: str,
    kafka_bootstrap: str,
    redis_url: str,
    internal_token_secret: str,
    label: str,
    **overrides: Any,
) -> MetricsSettings:
    """Settings on the test engines, with consumer groups of their own (`label`, random)."""
    run = secrets.token_hex(4)
    return settings_for(
        MetricsSettings,
        database_url=postgres_dsn,
        kafka_bootstrap=kafka_bootstrap,
        redis_url=redis_url,
        internal_token_secret=internal_token_secret,
        shares_group=f"metrics-shares-{label}-{run}",
        ingest_group=f"metrics-ingest-{label}-{run}",
        content_group=f"metrics-content-{label}-{run}",
        **overrides,
    )


@pytest.fixture(scope="session")
async def metrics(
    postgres_dsn: str, kafka_bootstrap: str, redis_url: str, internal_token_secret: str
) -> AsyncIterator[Metrics]:
    settings = metrics_settings(
        postgres_dsn,
        kafka_bootstrap,
        redis_url,
        internal_token_secret,
        "test",
        flush_poll_interval=0.05,
    )
    topics = sorted({s.topic for s in INPUT_SPECS} | {ENGAGEMENT_UPDATED.topic})
    await ensure_topics(kafka_bootstrap, topics + [f"{t}.dlq" for t in topics], 3)
    await _start_groups_at_end(
        kafka_bootstrap,
        {
            settings.shares_group: [SHARE_POSTED.topic],
            settings.ingest_group: [CLICK_RECORDED.topic, ENGAGEMENT_REPORTED.topic],
            settings.content_group: [CONTENT_APPROVED.topic, CONTENT_RETIRED.topic],
        },
    )
    updates = UpdatesFeed()
    reader = asyncio.create_task(_read_updates(kafka_bootstrap, updates))
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, linger_ms=2)
    await producer.start()
    app = create_service_app(build_spec(settings))
    try:
        async with serve_app(app) as client:
            yield Metrics(client, app.state.ctx.pool, producer, internal_token_secret, updates, app)
    finally:
        await producer.stop()
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader


async def _read_updates(bootstrap: str, feed: UpdatesFeed) -> None:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        parts = await _partitions(consumer, ENGAGEMENT_UPDATED.topic)
        tps = [TopicPartition(ENGAGEMENT_UPDATED.topic, p) for p in parts]
        consumer.assign(tps)
        await consumer.seek_to_end(*tps)
        while True:
            batches = await consumer.getmany(timeout_ms=200)
            for records in batches.values():
                for r in records:
                    try:
                        env = decode(r.topic, r.key, r.value, r.headers)
                    except PoisonMessage:
                        continue  # another suite's poison on the shared topic, not ours
                    payload: EngagementUpdated = env.payload
                    feed.by_tenant[payload.tenant_id].append(payload)
    finally:
        await consumer.stop()


@pytest.fixture
def tenant() -> str:
    return f"t-{uuid.uuid4().hex[:12]}"


def share_posted(
    tenant: str,
    share_id: str,
    *,
    advocate_id: str = "adv-1",
    network: Network = Network.LINKEDIN,
    content_id: str = "cnt-1",
    team_ids: tuple[str, ...] = ("team-a",),
    caption: str | None = None,
    campaign_hashtags: tuple[str, ...] = (),
    posted_at: datetime | None = None,
) -> SharePosted:
    code = secrets.token_urlsafe(9)
    return SharePosted(
        tenant_id=tenant,
        share_id=share_id,
        content_id=content_id,
        advocate_id=advocate_id,
        team_ids=team_ids,
        network=network,
        caption=caption,
        link_code=code,
        tracked_url=f"https://go.example/l/{code}",
        destination_url=f"https://acme.example/post?utm_content={share_id}",
        campaign_hashtags=campaign_hashtags,
        posted_at=posted_at or datetime.now(UTC),
    )


BROWSER_UA = "Mozilla/5.0 (X11; Linux x86_64; rv:135.0) Gecko/20100101 Firefox/135.0"


def click(
    tenant: str,
    share_id: str,
    *,
    visitor: str | None = None,
    ip_prefix: str | None = None,
    user_agent: str | None = BROWSER_UA,
    at: datetime | None = None,
) -> ClickRecorded:
    return ClickRecorded(
        tenant_id=tenant,
        click_id=uuid.uuid4(),
        link_code="abcd1234",
        share_id=share_id,
        occurred_at=at or datetime.now(UTC),
        visitor_hash=visitor or secrets.token_hex(32),
        user_agent=user_agent,
        ip_prefix=ip_prefix or f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}.0/24",
    )


def visitor() -> str:
    return secrets.token_hex(32)


Predicate = Callable[[], Awaitable[bool]]
