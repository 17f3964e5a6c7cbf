"""The producing half: committed events arrive, rolled-back ones never exist,
and a Kafka outage only delays delivery."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg
import pytest
from chorus_devstack.waiting import eventually
from chorus_events.envelope import Envelope
from chorus_events.testkit import Backbone

pytestmark = pytest.mark.integration


async def test_committed_event_arrives_decoded_and_rolled_back_one_never(
    backbone: Backbone,
) -> None:
    relay = backbone.relay()
    runner = backbone.runner("g-roundtrip")
    await relay.start()
    await runner.start()
    try:
        await backbone.append([1])
        await backbone.append([2], rollback=True)
        await backbone.append([3])  # sentinel: once it arrived, 2 had every chance to
        await eventually(lambda: _has(backbone, {1, 3}), what="events 1 and 3 applied")
        assert sorted(await backbone.effects()) == [1, 3]
        assert await backbone.backlog() == 0
        assert runner.stats.dead_lettered == 0
    finally:
        await runner.stop()
        await relay.stop()


async def test_kafka_outage_loses_nothing_and_doubles_nothing(
    backbone: Backbone, kafka_control: Any
) -> None:
    relay = backbone.relay(backoff_max=1.0)
    runner = backbone.runner("g-outage")
    await relay.start()
    await runner.start()
    try:
        await backbone.append([0])
        await eventually(lambda: _has(backbone, {0}), what="warm-up event")
        await kafka_control.stop()
        for start in range(1, 1001, 100):
            await backbone.append(range(start, start + 100))
        # With the broker gone nothing can be published: the backlog holds all of it.
        assert await backbone.backlog() == 1000
        await kafka_control.start()
        await eventually(
            lambda: _count(backbone, 1001), timeout=120, what="1001 effects after Kafka returned"
        )
        effects = await backbone.effects()
        assert sorted(effects) == list(range(1001)), "every event exactly once in effect"
        assert await backbone.backlog() == 0
    finally:
        await runner.stop()
        await relay.stop()


async def test_per_key_order_is_kept_with_two_relays(backbone: Backbone) -> None:
    relays = [backbone.relay(batch_size=37), backbone.relay(batch_size=53)]
    for seq_start in range(0, 700, 100):
        await backbone.append(range(seq_start, seq_start + 100))
    seen: dict[str, list[int]] = {}

    async def in_order(batch: Sequence[Envelope[Any]], conn: asyncpg.Connection) -> None:
        for env in batch:
            seen.setdefault(env.payload.entity, []).append(env.payload.seq)
        return None

    runner = backbone.runner("g-order", in_order)
    for relay in relays:
        await relay.start()
    await runner.start()
    try:
        await eventually(lambda: _total(seen, 700), what="700 events consumed")
        for entity, seqs in seen.items():
            assert seqs == sorted(seqs), f"events of key {entity} arrived out of order"
        assert sum(r.published for r in relays) == 700
    finally:
        await runner.stop()
        for relay in relays:
            await relay.stop()


async def _has(backbone: Backbone, seqs: set[int]) -> bool:
    return seqs <= set(await backbone.effects())


async def _count(backbone: Backbone, n: int) -> bool:
    return len(await backbone.effects()) >= n


async def _total(seen: dict[str, list[int]], n: int) -> bool:
    return sum(len(v) for v in seen.values()) >= n
