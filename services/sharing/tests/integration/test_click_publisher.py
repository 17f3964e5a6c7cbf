"""Clicks group-sent through the shared publisher: each once, in order per share."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

from chorus_events.contracts.clicks import ClickRecorded
from chorus_events.contracts.registry import CLICK_RECORDED
from chorus_events.envelope import encode
from chorus_sharing.clicks import click_publisher

from .conftest import ReaderFactory


async def test_concurrent_grouped_clicks_each_land_once_in_order_per_share(
    kafka_bootstrap: str, topic_reader: ReaderFactory
) -> None:
    reader = await topic_reader(CLICK_RECORDED)
    tenant = f"t-{uuid.uuid4().hex[:8]}"
    clicks = [
        ClickRecorded(
            tenant_id=tenant,
            click_id=uuid.uuid4(),
            link_code="AbCdEf_-1234",
            share_id=f"share-{n % 7}",
            occurred_at=datetime.now(UTC),
            visitor_hash="ab" * 32,
        )
        for n in range(300)
    ]
    publisher = click_publisher(kafka_bootstrap, "sharing-test")
    try:
        # All at once, as concurrent redirects would: they leave in a few grouped batches.
        await asyncio.gather(
            *(
                publisher.publish_grouped(
                    encode(CLICK_RECORDED, c, source="/test", event_id=str(c.click_id))
                )
                for c in clicks
            )
        )
    finally:
        await publisher.stop()
    events = await reader.events(tenant)
    assert sorted(e.payload.click_id for e in events) == sorted(c.click_id for c in clicks)
    for share in {c.share_id for c in clicks}:
        sent = [c.click_id for c in clicks if c.share_id == share]
        assert [e.payload.click_id for e in events if e.payload.share_id == share] == sent
