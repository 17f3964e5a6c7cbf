"""Topics the backbone creates are usable at once by consumers that subscribe to them."""

from __future__ import annotations

import uuid

import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from chorus_devstack.waiting import eventually
from chorus_events.bus import ensure_topics

pytestmark = pytest.mark.integration


async def test_created_topics_are_served_when_ensure_topics_returns(kafka_bootstrap: str) -> None:
    topics = [f"test.fresh.{uuid.uuid4().hex[:10]}" for _ in range(4)]
    await ensure_topics(kafka_bootstrap, topics, partitions=3)

    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        described = await admin.describe_topics(topics)
    finally:
        await admin.close()
    assert {t["topic"]: t["error_code"] for t in described} == dict.fromkeys(topics, 0)
    assert all(len(t["partitions"]) == 3 for t in described)
    assert all(p["leader"] >= 0 for t in described for p in t["partitions"])

    # A group subscribing right away is assigned every partition, not nothing until
    # its next metadata refresh five minutes later.
    consumer = AIOKafkaConsumer(
        bootstrap_servers=kafka_bootstrap, group_id=f"g-{uuid.uuid4().hex[:8]}"
    )
    await consumer.start()
    try:
        consumer.subscribe(topics)

        async def all_assigned() -> bool:
            await consumer.getmany(timeout_ms=100)
            return len(consumer.assignment()) == 12

        await eventually(all_assigned, timeout=20, what="every partition of the new topics")
    finally:
        await consumer.stop()
