"""Kafka first, the outbox while Kafka fails: the redirect never depends on Kafka alone."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from chorus_events.contracts.clicks import ClickRecorded
from chorus_sharing.clicks import FallbackClickRecorder
from chorus_sharing.errors import ClickNotRecorded


class Recorder:
    def __init__(self) -> None:
        self.clicks: list[ClickRecorded] = []
        self.failing = False

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def record(self, click: ClickRecorded) -> None:
        if self.failing:
            raise ClickNotRecorded("down")
        self.clicks.append(click)


def _click() -> ClickRecorded:
    return ClickRecorded(
        tenant_id="t1", click_id=uuid.uuid4(), link_code="abcd1234", share_id="s1",
        occurred_at=datetime.now(UTC), visitor_hash="ab" * 32,
    )  # fmt: skip


async def test_clicks_fall_back_and_kafka_is_retried_after_the_pause() -> None:
    kafka, outbox, now = Recorder(), Recorder(), [100.0]
    recorder = FallbackClickRecorder(
        kafka,  # type: ignore[arg-type]
        outbox,  # type: ignore[arg-type]
        retry_after=5.0,
        clock=lambda: now[0],
    )
    first, second, third, fourth = (_click() for _ in range(4))
    await recorder.record(first)
    kafka.failing = True
    await recorder.record(second)  # Kafka fails: this one goes to the outbox
    kafka.failing = False
    now[0] += 4.9
    await recorder.record(third)  # still pausing Kafka
    now[0] += 0.2
    await recorder.record(fourth)
    assert [c.click_id for c in kafka.clicks] == [first.click_id, fourth.click_id]
    assert [c.click_id for c in outbox.clicks] == [second.click_id, third.click_id]


async def test_no_302_when_neither_can_record() -> None:
    kafka, outbox = Recorder(), Recorder()
    kafka.failing = outbox.failing = True
    recorder: Any = FallbackClickRecorder(kafka, outbox, retry_after=5.0)  # type: ignore[arg-type]
    with pytest.raises(ClickNotRecorded):
        await recorder.record(_click())


def test_the_cached_partitioner_agrees_with_kafkas_murmur2() -> None:
    from aiokafka.partitioner import DefaultPartitioner
    from chorus_sharing.clicks import CachedPartitioner

    cached, reference = CachedPartitioner(size=8), DefaultPartitioner()
    for n in range(50):  # more keys than the memo holds: it refills
        key = f"tenant-{n % 3}:share-{n}".encode()
        for partitions in ([0, 1, 2], list(range(12))):
            expected = reference(key, partitions, partitions)
            assert cached(key, partitions, partitions) == expected
            assert cached(key, partitions, partitions) == expected
