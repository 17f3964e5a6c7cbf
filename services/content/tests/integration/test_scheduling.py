"""Scheduled publish and expiry with two service instances running: each item's
content.approved and content.retired reach Kafka exactly once."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from chorus_content.app import build_spec
from chorus_content.settings import ContentSettings
from chorus_devstack.apps import serve_app
from chorus_devstack.waiting import eventually
from chorus_events.bus import ensure_topics
from chorus_events.contracts import CONTENT_APPROVED, CONTENT_RETIRED
from chorus_events.envelope import Envelope, decode
from chorus_platform.app import create_service_app

pytestmark = pytest.mark.integration

TOPICS = (CONTENT_APPROVED.topic, CONTENT_RETIRED.topic)


@contextlib.asynccontextmanager
async def tap(bootstrap: str, tenant_id: str) -> AsyncIterator[list[Envelope[Any]]]:
    """Collect the tenant's content events published from now on."""
    consumer = AIOKafkaConsumer(
        *TOPICS, bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="latest"
    )
    await consumer.start()
    seen: list[Envelope[Any]] = []
    try:

        async def assigned() -> bool:
            return len(consumer.assignment()) > 0

        await eventually(assigned, what="partitions of the content topics assigned")
        for tp in consumer.assignment():  # resolve "latest" before anything is produced
            await consumer.position(tp)

        async def collect() -> None:
            async for msg in consumer:
                if msg.key is not None and msg.key.startswith(f"{tenant_id}:".encode()):
                    seen.append(decode(msg.topic, msg.key, msg.value, msg.headers))

        task = asyncio.create_task(collect())
        try:
            yield seen
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    finally:
        await consumer.stop()


async def test_publish_and_expiry_emit_exactly_once_with_two_instances(
    content_settings: ContentSettings,
    kafka_bootstrap: str,
    client: httpx.AsyncClient,
    tenant: Any,
    item_body: Any,
) -> None:
    await ensure_topics(kafka_bootstrap, TOPICS, content_settings.kafka_partitions)
    first = create_service_app(build_spec(content_settings))
    second = create_service_app(build_spec(content_settings))
    async with (
        serve_app(first) as one,
        serve_app(second) as two,
        tap(kafka_bootstrap, tenant.id) as events,
    ):
        now = datetime.now(UTC)
        publish_at, expires_at = now + timedelta(seconds=2), now + timedelta(seconds=3.5)
        ids = []
        for n in range(6):
            body = item_body(
                title=f"Scheduled {n}",
                publish_at=publish_at.isoformat(),
                expires_at=expires_at.isoformat(),
                targeting={"audience": "teams", "team_ids": ["sales", "emea"]},
            )
            api = (one, two)[n % 2]
            item = (await api.post("/v1/content/items", json=body, headers=tenant.editor)).json()
            url = f"/v1/content/items/{item['id']}"
            await api.post(f"{url}/submit", headers=tenant.editor)
            approved = await api.post(f"{url}/approve", headers=tenant.approver)
            assert approved.json()["state"] == "approved", approved.text
            ids.append(item["id"])
        assert not events, "nothing is announced before publish_at"

        async def all_retired() -> bool:
            return sum(e.type == CONTENT_RETIRED.ce_type for e in events) >= len(ids)

        await eventually(all_retired, timeout=30, what="every item published and expired")
        # Two more scheduler rounds on every instance: a duplicate would have shown up.
        await asyncio.sleep(4 * content_settings.scheduler_poll_interval)
        approvals = [e for e in events if e.type == CONTENT_APPROVED.ce_type]
        retirements = [e for e in events if e.type == CONTENT_RETIRED.ce_type]
        assert sorted(e.payload.content_id for e in approvals) == sorted(ids)
        assert sorted(e.payload.content_id for e in retirements) == sorted(ids)
        for event in approvals:
            payload = event.payload
            assert payload.publish_at == publish_at
            assert payload.expires_at == expires_at
            assert payload.targeting.team_ids == ("sales", "emea")
            assert payload.campaign_hashtags == ("#Launch",)
            assert payload.suggested_captions["linkedin"] == (
                "Proud of the team!",
                "Big day for us.",
            )
            assert payload.link_url == "https://example.com/launch"
            assert payload.approved_by == "ap"
        assert {e.payload.reason.value for e in retirements} == {"expired"}
        for item_id in ids:
            got = (await client.get(f"/v1/content/items/{item_id}", headers=tenant.editor)).json()
            assert got["state"] == "expired"
            trail = await client.get(f"/v1/content/items/{item_id}/audit", headers=tenant.editor)
            assert [e["action"] for e in trail.json()["items"]][-2:] == ["publish", "expire"]
    moved = sum(app.state.ctx.extras["scheduler"].published for app in (first, second))
    assert moved <= len(ids)  # the session's own instance may have taken some
