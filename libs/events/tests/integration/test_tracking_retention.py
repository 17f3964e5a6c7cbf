"""The tracking purge: old ids go, ids of events Kafka may still redeliver stay."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from chorus_devstack.waiting import eventually
from chorus_events.retention import TrackingPurger, TrackingRetention, topic_configs
from chorus_events.testkit import Backbone

pytestmark = pytest.mark.integration

HOUR_MS = 3_600_000


async def _create_topic(bootstrap: str, configs: dict[str, str]) -> str:
    name = f"test.retention.{uuid.uuid4().hex[:10]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, 1, 1, topic_configs=configs)])
    finally:
        await admin.close()

    async def describable() -> bool:  # the new topic's metadata reaches the controller
        try:
            return name in await topic_configs(bootstrap, [name])
        except RuntimeError:
            return False

    await eventually(describable, what=f"{name} describable")
    return name


async def _track(backbone: Backbone, group: str, ages_hours: list[float]) -> None:
    async with backbone.pool.acquire() as conn:
        await conn.executemany(
            "INSERT INTO processed_events (consumer_group, event_id, topic, kafka_partition,"
            " kafka_offset, processed_at) VALUES ($1, $2, 't', 0, $3, now() - $4::interval)",
            [(group, f"{group}-{i}", i, timedelta(hours=age)) for i, age in enumerate(ages_hours)],
        )


async def _ages_left(backbone: Backbone, group: str) -> list[int]:
    async with backbone.pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT round(extract(epoch FROM now() - processed_at) / 3600)::int AS h"
            " FROM processed_events WHERE consumer_group = $1 ORDER BY 1",
            group,
        )
    return [row["h"] for row in rows]


def _purger(backbone: Backbone, group: str, topic: str, keep: timedelta) -> TrackingPurger:
    return TrackingPurger(
        pool=backbone.pool,
        bootstrap=backbone.bootstrap,
        group=group,
        topics=[topic],
        service="test",
        retention=TrackingRetention(keep=keep, chunk=2),  # several chunks
    )


async def test_purge_keeps_what_the_topic_can_still_redeliver(backbone: Backbone) -> None:
    # The topic keeps records 1 h, in segments of up to 1 h: a record can be
    # redelivered up to 2 h after it was written, so with the 1-day margin a row
    # must stay 26 h, even though the group was configured for 1 h.
    topic = await _create_topic(
        backbone.bootstrap, {"retention.ms": str(HOUR_MS), "segment.ms": str(HOUR_MS)}
    )
    assert (await topic_configs(backbone.bootstrap, [topic]))[topic]["retention.ms"] == str(HOUR_MS)
    await _track(backbone, "g1", [0, 1, 25, 27, 30, 50, 70])
    await _track(backbone, "g2", [27, 50])  # another group: not this purger's rows

    purged = await _purger(backbone, "g1", topic, timedelta(hours=1)).purge_once()

    assert purged == 4
    assert await _ages_left(backbone, "g1") == [0, 1, 25]
    assert await _ages_left(backbone, "g2") == [27, 50]


async def test_configured_retention_wins_when_longer(backbone: Backbone) -> None:
    topic = await _create_topic(
        backbone.bootstrap, {"retention.ms": str(HOUR_MS), "segment.ms": str(HOUR_MS)}
    )
    await _track(backbone, "g1", [1, 40, 47, 49, 72])

    purged = await _purger(backbone, "g1", topic, timedelta(hours=48)).purge_once()

    assert purged == 2
    assert await _ages_left(backbone, "g1") == [1, 40, 47]


@pytest.mark.parametrize(
    "configs",
    [{"retention.ms": "-1"}, {"cleanup.policy": "compact"}],
    ids=["infinite-retention", "compacted"],
)
async def test_a_topic_that_never_deletes_turns_the_purge_off(
    backbone: Backbone, configs: dict[str, str]
) -> None:
    topic = await _create_topic(backbone.bootstrap, configs)
    await _track(backbone, "g1", [1, 500, 5000])

    assert await _purger(backbone, "g1", topic, timedelta(hours=1)).purge_once() == 0
    assert await _ages_left(backbone, "g1") == [1, 500, 5000]


async def test_a_running_consumer_purges_its_group_periodically(backbone: Backbone) -> None:
    # The backbone topic has Kafka's defaults (7 days + 7-day segments): rows must
    # stay 15 days whatever the group asks for.
    await _track(backbone, "g-run", [2, 14 * 24, 16 * 24, 20 * 24])
    runner = backbone.runner(
        "g-run", tracking_retention=TrackingRetention(keep=timedelta(hours=1), interval=0.2)
    )
    await runner.start()
    try:
        await eventually(
            lambda: _left_is(backbone, "g-run", [2, 14 * 24]), what="old tracking rows purged"
        )
    finally:
        await runner.stop()


async def _left_is(backbone: Backbone, group: str, ages: list[int]) -> bool:
    return await _ages_left(backbone, group) == ages
