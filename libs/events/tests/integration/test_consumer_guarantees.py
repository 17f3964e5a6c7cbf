"""The consuming half: effectively once through crashes and rebalances; poison to the DLQ."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Sequence
from typing import Any

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from chorus_devstack.waiting import eventually
from chorus_events.consumer import AfterCommit, ConsumerConfig, ConsumerRunner
from chorus_events.contracts import dlq as dlq_headers
from chorus_events.dlq import DeadLetterLimitExceeded, DeadLetterPolicy
from chorus_events.envelope import Envelope, encode
from chorus_events.errors import RejectEvent
from chorus_events.testkit import Backbone, Ping, ping_spec, record_effects

pytestmark = pytest.mark.integration


async def _distinct_and_total(backbone: Backbone) -> tuple[int, int]:
    effects = await backbone.effects()
    return len(set(effects)), len(effects)


async def test_hard_kill_after_commit_before_offset_commit_has_no_double_effect(
    backbone: Backbone,
) -> None:
    relay = backbone.relay()
    await relay.start()
    try:
        await backbone.append(range(600))
        await eventually(lambda: _zero_backlog(backbone), what="outbox drained")
    finally:
        await relay.stop()
    # A real process, killed with SIGKILL by itself right after its 3rd batch's
    # transaction committed and before any offset commit of that batch.
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "chorus_events.testkit",
        "crash-consumer",
        backbone.dsn,
        backbone.schema,
        backbone.bootstrap,
        backbone.topic,
        "g-crash",
        "3",
    )
    assert await asyncio.wait_for(proc.wait(), 120) == -9, "the consumer should die by SIGKILL"
    applied_before_restart, _ = await _distinct_and_total(backbone)
    assert applied_before_restart >= 150, "three batches were committed before the kill"

    runner = backbone.runner("g-crash", batch_size=50)
    await runner.start()
    try:
        await eventually(lambda: _count_at_least(backbone, 600), what="all 600 applied")
        await _settle(runner)
        distinct, total = await _distinct_and_total(backbone)
        assert (distinct, total) == (600, 600), "no loss and no double effect"
        assert runner.stats.duplicates > 0, "the restart saw redelivered, already applied events"
    finally:
        await runner.stop()


async def test_member_leaving_mid_stream_hands_over_without_loss_or_double(
    backbone: Backbone,
) -> None:
    slow_seen = 0

    async def slow(batch: Sequence[Envelope[Any]], conn: asyncpg.Connection) -> AfterCommit | None:
        nonlocal slow_seen
        slow_seen += len(batch)
        await asyncio.sleep(0.01)  # simulated work, keeps both members busy
        return await record_effects(batch, conn)

    first = backbone.runner("g-pair", slow, batch_size=20)
    second = backbone.runner("g-pair", slow, batch_size=20)
    relay = backbone.relay()
    await first.start()
    await second.start()
    await relay.start()
    try:
        await eventually(lambda: _both_assigned(first, second), what="partitions shared")
        await backbone.append(range(0, 500))
        await eventually(lambda: _count_at_least(backbone, 100), what="stream under way")
        await second.stop()  # leaves the group mid-stream
        await backbone.append(range(500, 1000))
        await eventually(lambda: _count_at_least(backbone, 1000), timeout=60, what="1000 applied")
        await _settle(first)
        assert await _distinct_and_total(backbone) == (1000, 1000)
        assert second.stats.applied > 0 and first.stats.applied > 0
    finally:
        await relay.stop()
        await first.stop()
        await second.stop()


async def test_poison_goes_to_the_dlq_with_reasons_and_the_stream_continues(
    backbone: Backbone,
) -> None:
    good = [encode(backbone.spec, Ping(tenant_id="t1", seq=i), source="/t") for i in range(5)]
    wrong_payload = encode(backbone.spec, Ping(tenant_id="t1", seq=99), source="/t")
    bad_records: list[tuple[bytes, list[tuple[str, bytes]], str]] = [
        (b"not json", good[0].headers, "bad-json"),
        (
            wrong_payload.value,
            [h for h in wrong_payload.headers if h[0] != "ce_type"],
            "missing-header",
        ),
        (
            wrong_payload.value,
            _with(wrong_payload.headers, "ce_type", b"io.other.v1"),
            "unknown-type",
        ),
        (b'{"tenant_id": "t1", "seq": "many"}', good[0].headers, "invalid-payload"),
    ]
    producer = AIOKafkaProducer(bootstrap_servers=backbone.bootstrap)
    await producer.start()
    try:
        for i, record in enumerate(good):
            await producer.send_and_wait(
                backbone.topic, record.value, key=b"k", headers=record.headers
            )
            if i < len(bad_records):
                value, headers, _ = bad_records[i]
                # Fresh ce_id per poison message so none is mistaken for a duplicate.
                headers = (
                    _with(headers, "ce_id", f"poison-{i}".encode()) if _has_id(headers) else headers
                )
                await producer.send_and_wait(backbone.topic, value, key=b"k", headers=headers)
    finally:
        await producer.stop()

    runner = backbone.runner("g-poison")
    await runner.start()
    try:
        await eventually(lambda: _count_at_least(backbone, 5), what="good events applied")
        await eventually(
            lambda: _at_least(runner.stats.dead_lettered, 4), what="poison dead-lettered"
        )
    finally:
        await runner.stop()
    assert sorted(await backbone.effects()) == [0, 1, 2, 3, 4]
    dead = await _read_all(backbone.bootstrap, backbone.spec.dlq_topic, 4)
    reasons = sorted(h[dlq_headers.ERROR_REASON] for h in dead)
    assert reasons == sorted(r for _, _, r in bad_records)
    for headers in dead:
        assert headers[dlq_headers.ORIGINAL_TOPIC] == backbone.topic
        assert headers[dlq_headers.CONSUMER_GROUP] == "g-poison"
        assert int(headers[dlq_headers.ORIGINAL_OFFSET]) >= 0
        assert headers[dlq_headers.ERROR_DETAIL]


async def test_dlq_limit_stops_the_consumer_when_everything_is_poison(backbone: Backbone) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=backbone.bootstrap)
    await producer.start()
    try:
        for i in range(30):
            await producer.send(backbone.topic, b"garbage %d" % i, key=b"k")
        await producer.flush()
    finally:
        await producer.stop()
    runner = backbone.runner(
        "g-limit", dead_letter_policy=lambda: DeadLetterPolicy(max_consecutive=10)
    )
    await runner.start()
    await asyncio.wait_for(runner.wait(), 60)
    assert isinstance(runner.failure, DeadLetterLimitExceeded)
    assert runner.stats.dead_lettered < 30, "it stopped instead of dead-lettering everything"
    await runner.stop()


async def test_a_rejected_event_is_isolated_and_its_batch_neighbours_apply(
    backbone: Backbone,
) -> None:
    async def picky(batch: Sequence[Envelope[Any]], conn: asyncpg.Connection) -> AfterCommit | None:
        if any(env.payload.seq == 13 for env in batch):
            raise RejectEvent("unlucky", "13 is never accepted")
        return await record_effects(batch, conn)

    relay = backbone.relay()
    runner = backbone.runner("g-reject", picky)
    await backbone.append(range(30))
    await relay.start()
    await runner.start()
    try:
        await eventually(lambda: _count_at_least(backbone, 29), what="29 applied")
        await eventually(lambda: _at_least(runner.stats.dead_lettered, 1), what="13 dead-lettered")
        await _settle(runner)
    finally:
        await runner.stop()
        await relay.stop()
    assert sorted(await backbone.effects()) == [i for i in range(30) if i != 13]
    assert runner.stats.dead_letter_reasons == {"unlucky": 1}


async def test_transient_failures_are_retried_without_loss_or_double(backbone: Backbone) -> None:
    failures = 3

    async def flaky(batch: Sequence[Envelope[Any]], conn: asyncpg.Connection) -> AfterCommit | None:
        nonlocal failures
        await record_effects(batch, conn)  # written, then rolled back by the failure
        if failures:
            failures -= 1
            raise ConnectionResetError("database went away")
        return None

    runner = backbone.runner("g-flaky", flaky, backoff_initial=0.05)
    await _relay_and_apply(backbone, runner, 50)
    assert await _distinct_and_total(backbone) == (50, 50)
    assert runner.stats.retries == 3
    assert runner.stats.dead_lettered == 0


async def test_a_crash_outside_the_handler_reconnects_without_loss_or_double(
    backbone: Backbone,
) -> None:
    runner = backbone.runner("g-crash", backoff_initial=0.05)
    commit = runner._commit
    crashes = 1

    async def crashing_commit(*, force: bool) -> None:
        nonlocal crashes
        if crashes and not force:
            crashes -= 1
            raise RuntimeError("a bug between two batches")
        await commit(force=force)

    runner._commit = crashing_commit  # type: ignore[method-assign]
    await _relay_and_apply(backbone, runner, 50)
    assert crashes == 0, "the crash was never injected"
    assert isinstance(runner.failure, RuntimeError)  # kept for inspection
    assert await _distinct_and_total(backbone) == (50, 50)


async def test_re_produced_events_have_no_second_effect(backbone: Backbone) -> None:
    # A relay that published but failed to mark its rows sends them again: same
    # ce_id, later offsets. Whole batches of them, and batches mixing them with
    # new events, must apply only the new ones.
    producer = AIOKafkaProducer(bootstrap_servers=backbone.bootstrap)
    await producer.start()

    async def send(seqs: Sequence[int]) -> None:
        # One id holds the runner's packing separator: it must not split into two.
        await _send_pings(
            producer, backbone, seqs, lambda seq: f"ev\x1f{seq}" if seq == 17 else f"ev-{seq}"
        )

    runner = backbone.runner("g-reproduced", batch_size=10, batch_timeout_ms=50)
    try:
        await send(range(10))
        await runner.start()
        await eventually(lambda: _count_at_least(backbone, 10), what="first 10 applied")
        await send(range(10))  # a batch of nothing but duplicates
        await send([*range(5, 15), *range(15, 20)])  # duplicates mixed with new events
        await eventually(lambda: _count_at_least(backbone, 20), what="20 applied")
        await _settle(runner)
    finally:
        await runner.stop()
        await producer.stop()
    assert sorted(await backbone.effects()) == list(range(20))
    assert runner.stats.duplicates == 15


async def test_an_untracked_consumer_hands_over_redeliveries_and_writes_no_tracking_rows(
    backbone: Backbone,
) -> None:
    # `tracked=False` is for handlers that keep their events' identities themselves:
    # the runner must then give them every delivery (a redelivery included, once per
    # batch) in one transaction with no tracking row, and count nothing as duplicate.
    seen: list[str] = []

    async def keep_ids(batch: Sequence[Envelope[Any]], conn: asyncpg.Connection) -> None:
        seen.extend(env.id for env in batch)
        await conn.executemany(
            "INSERT INTO effects (event_id, seq) SELECT $1, $2 "
            "WHERE NOT EXISTS (SELECT 1 FROM effects WHERE event_id = $1)",
            [(env.id, env.payload.seq) for env in batch],
        )

    producer = AIOKafkaProducer(bootstrap_servers=backbone.bootstrap)
    await producer.start()

    async def send(seqs: Sequence[int]) -> None:
        await _send_pings(producer, backbone, seqs, lambda seq: f"un-{seq}")

    runner = backbone.runner("g-untracked", keep_ids, tracked=False, batch_timeout_ms=50)
    try:
        await runner.start()
        await eventually(lambda: _both_assigned(runner), what="assigned")
        await send(range(5))
        await eventually(lambda: _count_at_least(backbone, 5), what="first 5 applied")
        await send([3, 4, 5, 6])  # two redelivered, two new
        await eventually(lambda: _count_at_least(backbone, 7), what="7 applied")
        await eventually(lambda: _at_least(len(seen), 9), what="every delivery handed over")
        await _settle(runner)
    finally:
        await runner.stop()
        await producer.stop()
    assert sorted(await backbone.effects()) == list(range(7))
    assert sorted(seen) == sorted(f"un-{i}" for i in [0, 1, 2, 3, 3, 4, 4, 5, 6])
    assert runner.stats.duplicates == 0
    tracked = await backbone.pool.fetchval(
        "SELECT count(*) FROM processed_events WHERE consumer_group = 'g-untracked'"
    )
    assert tracked == 0


# --- helpers ------------------------------------------------------------------


async def _send_pings(
    producer: AIOKafkaProducer,
    backbone: Backbone,
    seqs: Sequence[int],
    event_id: Callable[[int], str],
) -> None:
    """Produce a ping per seq with the given event ids, one key (one partition, in order)."""
    for seq in seqs:
        ping = Ping(tenant_id="t1", seq=seq, entity="e")
        r = encode(backbone.spec, ping, source="/chorus/test", event_id=event_id(seq))
        await producer.send_and_wait(r.topic, r.value, key=r.key, headers=r.headers)


def _with(headers: Sequence[tuple[str, bytes]], name: str, value: bytes) -> list[tuple[str, bytes]]:
    return [(k, v) for k, v in headers if k != name] + [(name, value)]


def _has_id(headers: Sequence[tuple[str, bytes]]) -> bool:
    return any(k == "ce_id" for k, _ in headers)


async def test_co_partitioned_members_own_the_same_partitions_of_every_topic(
    backbone: Backbone,
) -> None:
    """Partition i of both topics goes to one member (same key, same partition count:
    every event of a key reaches one member), also after a member joins a busy group."""
    specs = [backbone.spec, ping_spec(backbone.topic + ".b")]

    async def slow(batch: Sequence[Envelope[Any]], conn: asyncpg.Connection) -> AfterCommit | None:
        await asyncio.sleep(0.05)  # the first member is busy when the second joins
        return await record_effects(batch, conn)

    def member() -> ConsumerRunner:
        return ConsumerRunner(
            bootstrap=backbone.bootstrap,
            pool=backbone.pool,
            handler=slow,
            service="test",
            config=ConsumerConfig(group="g-co", specs=specs, batch_size=20, co_partitioned=True),
        )

    first, second = member(), member()
    relay = backbone.relay()
    await backbone.append(range(0, 2000))
    await relay.start()
    await first.start()
    await eventually(lambda: _count_at_least(backbone, 100), what="first member consuming")
    await second.start()  # joins a busy group: a rebalance
    try:
        await eventually(lambda: _both_assigned(first, second), what="partitions shared")
        owned = [{(tp.topic, tp.partition) for tp in r.assignment} for r in (first, second)]
        assert owned[0].isdisjoint(owned[1])
        assert len(owned[0] | owned[1]) == 2 * 3
        for tps in owned:
            by_topic = [{p for t, p in tps if t == spec.topic} for spec in specs]
            assert by_topic[0] == by_topic[1] and by_topic[0]
    finally:
        await relay.stop()
        await first.stop()
        await second.stop()


async def _relay_and_apply(backbone: Backbone, runner: Any, n: int) -> None:
    """Append events 0..n-1, relay them, and run `runner` until all n applied and settled."""
    relay = backbone.relay()
    await backbone.append(range(n))
    await relay.start()
    await runner.start()
    try:
        await eventually(lambda: _count_at_least(backbone, n), what=f"{n} applied")
        await _settle(runner)
    finally:
        await runner.stop()
        await relay.stop()


async def _zero_backlog(backbone: Backbone) -> bool:
    return await backbone.backlog() == 0


async def _count_at_least(backbone: Backbone, n: int) -> bool:
    return len(await backbone.effects()) >= n


async def _at_least(value: int, n: int) -> bool:
    return value >= n


async def _both_assigned(*runners: Any) -> bool:
    return all(r.assignment for r in runners)


async def _settle(runner: Any) -> None:
    """Wait until the runner has consumed and committed up to the end of its partitions,
    so any redelivery that could still cause a double effect has already happened."""
    await eventually(runner.caught_up, what="consumer caught up and committed")


async def _read_all(bootstrap: str, topic: str, n: int) -> list[dict[str, str]]:
    # No group: the consumer reads every partition of the topic from the start.
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    try:
        out: list[dict[str, str]] = []
        async with asyncio.timeout(30):
            while len(out) < n:
                for records in (await consumer.getmany(timeout_ms=500)).values():
                    out += [{k: v.decode() for k, v in r.headers} for r in records]
        return out
    finally:
        await consumer.stop()


async def test_a_failing_after_commit_effect_is_retried_not_lost(backbone: Backbone) -> None:
    attempts = 0
    effected: list[int] = []

    async def with_side_effect(
        batch: Sequence[Envelope[Any]], conn: asyncpg.Connection
    ) -> AfterCommit | None:
        await record_effects(batch, conn)
        seqs = [env.payload.seq for env in batch]

        async def side_effect() -> None:
            nonlocal attempts
            attempts += 1
            if attempts <= 2:
                raise ConnectionError("redis went away")
            effected.extend(seqs)

        return side_effect

    relay = backbone.relay()
    runner = backbone.runner("g-after", with_side_effect, backoff_initial=0.05)
    await backbone.append(range(20))
    await relay.start()
    await runner.start()
    try:
        await eventually(lambda: _at_least(len(effected), 20), what="side effects of all 20")
        await _settle(runner)
    finally:
        await runner.stop()
        await relay.stop()
    assert sorted(effected) == list(range(20))
    assert await _distinct_and_total(backbone) == (20, 20)
    assert runner.stats.retries == 0, "a committed batch is never rewound"


async def test_after_commit_effects_run_one_at_a_time_in_commit_order_and_finish_before_stop(
    backbone: Backbone,
) -> None:
    """A batch's effect overlaps the next batch's transaction, never another effect."""
    committed: list[list[int]] = []
    effects: list[list[int]] = []
    running = 0
    overlapped = 0
    alongside = 0  # transactions that ran while an earlier batch's effect did

    async def handler(batch: Sequence[Envelope[Any]], conn: asyncpg.Connection) -> AfterCommit:
        nonlocal alongside
        alongside += running
        await record_effects(batch, conn)
        seqs = [env.payload.seq for env in batch]
        committed.append(seqs)

        async def effect() -> None:
            nonlocal running, overlapped
            running += 1
            overlapped = max(overlapped, running)
            await asyncio.sleep(0.03)  # a slow Redis: the next batch runs meanwhile
            effects.append(seqs)
            running -= 1

        return effect

    runner = backbone.runner("g-after", handler, batch_size=25, batch_timeout_ms=20)
    relay = backbone.relay()
    await runner.start()
    await relay.start()
    try:
        await backbone.append(range(300))
        await eventually(lambda: _count_at_least(backbone, 300), what="all 300 applied")
        await _settle(runner)  # caught up includes the last effect
        assert effects == committed, "every effect ran, in commit order"
    finally:
        await relay.stop()
        await runner.stop()
    assert overlapped == 1, "never two effects at once"
    assert alongside > 0, "an effect overlaps the next batch's transaction"
    assert effects == committed, "stop() leaves no effect behind"


async def test_a_read_ahead_batch_takes_what_arrived_while_the_previous_batch_was_handled(
    backbone: Backbone,
) -> None:
    """Batches grow with the handling time, not only up to the read-ahead's timeout.

    The read-ahead (started when batch [0] is handed over) catches seq 1 and stops
    collecting when its timeout passes; seqs 2-99 arrive after that, while [0] is
    still being handled. They join seq 1's batch rather than wait for the one after.
    """
    batches: list[list[int]] = []
    entered = asyncio.Event()
    release = asyncio.Event()

    async def handler(batch: Sequence[Envelope[Any]], conn: asyncpg.Connection) -> AfterCommit:
        await record_effects(batch, conn)
        batches.append(sorted(env.payload.seq for env in batch))
        if len(batches) == 1:
            entered.set()
            await release.wait()
        return None

    runner = backbone.runner("g-top-up", handler, batch_size=500, batch_timeout_ms=1000)
    relay = backbone.relay(poll_interval=0.05)
    await runner.start()
    await relay.start()
    try:
        await backbone.append([0])
        await asyncio.wait_for(entered.wait(), 30)
        await backbone.append([1])

        # White-box: the read-ahead task, done with seq 1 in hand.
        async def read_ahead_done() -> bool:
            task = runner._prefetch
            return task is not None and task.done() and len(task.result().messages) == 1

        await eventually(read_ahead_done, what="the read-ahead stopped with seq 1")
        await backbone.append(range(2, 100))  # one relay pass: one append per partition
        await eventually(lambda: _zero_backlog(backbone), what="2-99 published")

        async def all_fetched() -> bool:
            consumer = runner._consumer
            assert consumer is not None
            assigned = list(consumer.assignment())
            ends = await consumer.end_offsets(assigned)
            return all(consumer.highwater(tp) == ends[tp] for tp in assigned)

        await eventually(all_fetched, what="2-99 fetched by the runner's consumer")
        release.set()
        await eventually(lambda: _count_at_least(backbone, 100), what="all 100 applied")
    finally:
        release.set()
        await relay.stop()
        await runner.stop()
    assert batches == [[0], list(range(1, 100))]
