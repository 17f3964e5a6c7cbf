"""The one consumer runner: batches, effectively-once effects, DLQ, clean shutdown.

The contract a handler gets (`Handler`):

* It receives a batch of decoded, validated envelopes *that this consumer group
  has never applied before*, and an asyncpg connection with an open transaction.
  It writes its effects on that connection and must not commit or open another
  connection for them.
* The runner records every event id of the batch in `processed_events` in the
  same transaction (primary key: group + event id). Commit ⇒ effects and
  tracking are durable together; rollback ⇒ neither. A redelivered event (Kafka
  is at-least-once: crash before the offset commit, rebalance, relay retry)
  finds its id already there and is skipped, so it has no second effect.
* Kafka offsets are committed only after the transaction, throttled to about
  once per `commit_interval` and forced on partition revocation and shutdown.
  Committing late is safe precisely because of the tracking table.
* Side effects outside Postgres (Redis rankings) cannot join the transaction.
  A handler returns an `AfterCommit` callback for them; it runs after commit and
  must be idempotent *by construction*: write absolute values read from the
  committed state (`ZADD score`), never increments (`ZINCRBY`), so running it
  again — after a crash between commit and callback, or on replay — converges.
  Whatever a crash loses there is rebuilt from Postgres (the source of truth).
  Callbacks run one at a time in commit order; a batch's callback runs while the
  next batch's transaction does (its Redis round trips overlap Postgres work
  instead of adding to it) and is finished before the next callback starts,
  before a partition is revoked and before the runner stops.

Errors: an undecodable or invalid message, or one the handler rejects
(`RejectEvent` or any non-transient exception when handled alone), goes to
`<topic>.dlq` and the stream continues; a failing batch is bisected into single
events so one bad event does not poison its neighbours. Transient errors
(database or Kafka unavailable) rewind the consumer to the batch start and retry
with capped exponential backoff, committing nothing; the wait happens in the run
loop, never inside a rebalance callback. `DeadLetterPolicy` stops the consumer
when the input is mostly poison.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, TypeAlias

import asyncpg
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.coordinator.assignors.range import RangePartitionAssignor
from aiokafka.coordinator.assignors.roundrobin import RoundRobinPartitionAssignor
from aiokafka.errors import CommitFailedError, IllegalStateError, KafkaError
from aiokafka.structs import ConsumerRecord
from chorus_platform.metrics import (
    AFTER_COMMIT_FAILURES,
    CONSUMER_BATCH_LATENCY,
    CONSUMER_BATCH_SIZE,
    CONSUMER_LAG,
    CONSUMER_RUNNING,
    EVENTS_CONSUMED,
    EVENTS_DEAD_LETTERED,
    EVENTS_DUPLICATE,
    EVENTS_FAILED,
)
from chorus_platform.observability.tracing import spans_exported
from opentelemetry.trace import Span, SpanKind

from chorus_events.bus import KafkaPublisher, ensure_topics
from chorus_events.contracts.registry import EventSpec
from chorus_events.dlq import (
    DeadLetterLimitExceeded,
    DeadLetterPolicy,
    dead_letter_record,
    dlq_topic,
)
from chorus_events.envelope import Envelope, PoisonMessage, decode
from chorus_events.errors import RejectEvent, is_transient
from chorus_events.retention import TrackingPurger, TrackingRetention
from chorus_events.tracing import TRACER, context_from_headers, process_attributes

log = logging.getLogger(__name__)

AfterCommit = Callable[[], Awaitable[None]]
Handler = Callable[[Sequence[Envelope[Any]], asyncpg.Connection], Awaitable[AfterCommit | None]]
# aiokafka ships no type information; a record is a ConsumerRecord[bytes, bytes].
Message: TypeAlias = ConsumerRecord


@dataclass(frozen=True)
class ConsumerConfig:
    """`specs` are the event types this consumer handles; their topics are subscribed,
    and any other type arriving there is poison *for this consumer* (DLQ)."""

    group: str
    specs: Sequence[EventSpec[Any]]
    batch_size: int = 500
    batch_timeout_ms: int = 200
    commit_interval: float = 1.0
    backoff_initial: float = 0.2
    backoff_max: float = 10.0
    partitions: int = 3
    after_commit_attempts: int = 6
    trace_messages: bool | None = None
    """A span per message; None: only when spans are exported (see spans_exported)."""
    dead_letter_policy: Callable[[], DeadLetterPolicy] = DeadLetterPolicy
    tracking_retention: TrackingRetention | None = field(default_factory=TrackingRetention)
    """Purge of this group's old tracking rows (see chorus_events.retention); None: keep all."""
    tracked: bool = True
    """Record every event id in `processed_events` (the contract above). False only for
    a handler that records its events' own identities itself, under a unique key, in
    the same transaction, and skips those already there (e.g. metrics stores each
    click id once): a redelivered event then has no second effect either, and the
    runner writes no tracking row. It hands over every event of a batch (duplicates
    within one batch once), and must be tested against redelivery."""
    co_partitioned: bool = False
    """Give partition i of every subscribed topic to the same member (Kafka's range
    assignment) instead of spreading them round-robin. For topics with the same key
    and partition count, every event of one key then reaches one member, so effects
    outside the transaction (after-commit writes) are ordered per key across members.
    Range only: with round-robin offered as well (so that mixed groups could agree during
    a rolling deploy), two or three members of the rewards benchmark rejoined each other
    every heartbeat, one of them never consuming, in 8 of 10 runs (aiokafka 0.14). A member
    offering only range cannot join a group whose members offer only round-robin
    (`InconsistentGroupProtocolError`, a Kafka error: `_session` reconnects with
    backoff) until those have left; they keep consuming meanwhile."""

    @property
    def topics(self) -> list[str]:
        return sorted({spec.topic for spec in self.specs})


@dataclass
class ConsumerStats:
    applied: int = 0
    duplicates: int = 0
    dead_lettered: int = 0
    retries: int = 0
    batches: int = 0
    dead_letter_reasons: dict[str, int] = field(default_factory=dict)


async def _committed_to_end(consumer: AIOKafkaConsumer, assigned: set[TopicPartition]) -> bool:
    ends = await consumer.end_offsets(list(assigned))
    for tp in assigned:
        if (await consumer.committed(tp) or 0) < ends[tp]:
            return False
    return True


class ConsumerRunner:
    """Background worker: `start()` subscribes and runs; `stop()` flushes and commits."""

    def __init__(
        self,
        *,
        bootstrap: str,
        pool: asyncpg.Pool,
        handler: Handler,
        config: ConsumerConfig,
        service: str,
        publisher: KafkaPublisher | None = None,
    ) -> None:
        self.bootstrap = bootstrap
        self.pool = pool
        self.handler = handler
        self.config = config
        self.service = service
        self.publisher = publisher or KafkaPublisher(bootstrap, service)
        self.stats = ConsumerStats()
        self.failure: BaseException | None = None
        self._reconnect = False
        self._consumer: AIOKafkaConsumer | None = None
        self._lock = asyncio.Lock()
        self._pending: dict[TopicPartition, int] = {}
        self._last_commit = 0.0
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._purge_task: asyncio.Task[None] | None = None
        self._policy = config.dead_letter_policy()
        self._types = {spec.ce_type: spec for spec in config.specs}
        # A span per message costs ~40 µs with the SDK; without an exporter it would be
        # thrown away, so by default it is made only when traces leave the process.
        # Produced events carry the trace onward either way (append_event(caused_by=)).
        self._trace_messages = (
            spans_exported() if config.trace_messages is None else config.trace_messages
        )
        # Highest offset per partition already counted by the DLQ policy: a batch that
        # is retried (Kafka down while dead-lettering) must not count its poison twice.
        self._policy_seen: dict[tuple[str, int], int] = {}
        # The read-ahead: the next batch, fetched and decoded while this one commits.
        self._prefetch: asyncio.Task[_Fetched] | None = None
        # The last committed batch's after-commit effect, still running; see `_defer`.
        self._after_task: asyncio.Task[None] | None = None
        # Set when a batch held already-applied events; see `_apply_once`.
        self._expect_duplicates = False
        # Labelled children bound once: `.labels()` costs a lock and a dict lookup.
        self._batch_size_metric = CONSUMER_BATCH_SIZE.labels(service, config.group)
        self._batch_latency_metric = CONSUMER_BATCH_LATENCY.labels(service, config.group)

    # --- lifecycle -------------------------------------------------------------

    async def start(self) -> None:
        self._stopping.clear()
        self._task = asyncio.create_task(self._main(), name=f"consumer-{self.config.group}")
        if self.config.tracking_retention is not None:
            purger = TrackingPurger(
                pool=self.pool,
                bootstrap=self.bootstrap,
                group=self.config.group,
                topics=self.config.topics,
                service=self.service,
                retention=self.config.tracking_retention,
            )
            self._purge_task = asyncio.create_task(
                purger.run(self._stopping), name=f"tracking-purge-{self.config.group}"
            )

    async def stop(self, grace: float = 30.0) -> None:
        """Finish the batch in hand, commit its offsets, leave the group."""
        self._stopping.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), grace)
            except TimeoutError:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
        if self._purge_task is not None:
            # It waits on `_stopping`; a purge in progress is cancelled (each chunk is
            # its own statement, so a cancelled pass leaves nothing half-done).
            self._purge_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._purge_task
        await self.publisher.stop()

    async def wait(self) -> None:
        """Wait until the runner ends (stopped, or failed: see `failure`)."""
        if self._task is not None:
            await asyncio.shield(self._task)

    async def caught_up(self) -> bool:
        """True when every assigned partition's committed offset is its end offset and
        the last batch's after-commit effect is done."""
        consumer = self._consumer
        effect = self._after_task
        if consumer is None or self._pending or (effect is not None and not effect.done()):
            return False
        assigned = consumer.assignment()
        if not assigned:
            return False
        try:
            # Bounded: a connection being replaced (reconnect) would otherwise hold
            # this for the client's request timeout; it is simply not caught up yet.
            return await asyncio.wait_for(_committed_to_end(consumer, assigned), 5.0)
        except (KafkaError, TimeoutError):
            return False

    @property
    def assignment(self) -> set[TopicPartition]:
        return set(self._consumer.assignment()) if self._consumer else set()

    async def _main(self) -> None:
        backoff = self.config.backoff_initial
        while True:
            self._reconnect = False
            await self._session()
            if not self._reconnect or self._stopping.is_set():
                return
            await self._pause(backoff)
            backoff = min(backoff * 2, self.config.backoff_max)

    async def _session(self) -> None:
        """One consumer connection, from `_connect` until stopped or failed."""
        CONSUMER_RUNNING.labels(self.service, self.config.group).set(1)
        try:
            await self._connect()
            # The next batch is fetched and decoded while this one's transaction runs:
            # Python work overlaps Postgres work instead of adding to it.
            while not self._stopping.is_set():
                if self._prefetch is None:
                    fetched = await self._fetch()
                else:
                    fetched = await self._top_up(await self._prefetch)
                self._prefetch = None
                if fetched.messages:
                    self._prefetch = asyncio.create_task(self._fetch())
                    failure = await self._handle(fetched)
                    if failure is not None:
                        # Cancel the read-ahead *before* seeking, so no record fetched
                        # past the rewind point can be handled out of order.
                        await self._cancel_prefetch()
                        await self._rewind(fetched.messages, failure)
                await self._commit(force=False)
        except DeadLetterLimitExceeded as exc:
            self.failure = exc
            log.error("consumer %s stopped: %s", self.config.group, exc)
        except KafkaError as exc:
            # Kafka failed in a way the client did not absorb (e.g. a fetch or
            # metadata error while the broker restarts). Reconnecting resumes from the
            # committed offsets, and the tracking table drops what was applied since:
            # no loss, no double effect. A consumer that silently died would lose
            # the stream until someone restarted the service.
            log.warning("consumer %s lost Kafka (%r); reconnecting", self.config.group, exc)
            self._reconnect = True
        except Exception as exc:
            # Anything else (a bug outside the handler, which the bisection already
            # guards) ends this connection, not the consumer: reconnecting resumes from
            # the committed offsets and the tracking table drops what was applied since,
            # as above. Only the dead-letter limit stops it, on purpose.
            self.failure = exc
            log.exception("consumer %s crashed; reconnecting", self.config.group)
            self._reconnect = True
        finally:
            CONSUMER_RUNNING.labels(self.service, self.config.group).set(0)
            await self._cancel_prefetch()
            await self.settle_after_commit()
            await self._close()

    async def _cancel_prefetch(self) -> None:
        task, self._prefetch = self._prefetch, None
        if task is not None:
            task.cancel()
            # Whatever it ended with (cancelled, or the consumer stopped under it), the
            # records it read are dropped: they will be fetched again from the position.
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def _connect(self) -> None:
        backoff = self.config.backoff_initial
        topics = list(self.config.topics)
        while not self._stopping.is_set():
            consumer = AIOKafkaConsumer(
                bootstrap_servers=self.bootstrap,
                group_id=self.config.group,
                client_id=f"chorus-{self.service}-{self.config.group}",
                enable_auto_commit=False,
                auto_offset_reset="earliest",
                max_poll_records=self.config.batch_size,
                partition_assignment_strategy=_ASSIGNORS[self.config.co_partitioned],
            )
            try:
                await ensure_topics(
                    self.bootstrap, topics + [dlq_topic(t) for t in topics], self.config.partitions
                )
                await consumer.start()
            except (KafkaError, OSError) as exc:
                with contextlib.suppress(Exception):
                    await consumer.stop()
                log.warning("kafka unavailable for %s (%s); retrying", self.config.group, exc)
                await self._pause(backoff)
                backoff = min(backoff * 2, self.config.backoff_max)
                continue
            consumer.subscribe(topics, listener=_FlushOnRevoke(self))
            self._consumer = consumer
            return

    async def _close(self) -> None:
        if self._consumer is None:
            return
        with contextlib.suppress(Exception):
            async with self._lock:
                await self._commit(force=True)
        consumer, self._consumer = self._consumer, None
        # Leaving the group may fail when the broker is the thing that went away.
        with contextlib.suppress(KafkaError, OSError):
            await consumer.stop()

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds * (0.5 + random.random()))

    # --- polling and batching --------------------------------------------------

    async def _poll(self) -> tuple[list[Message], list[_Run]]:
        """Collect up to `batch_size` messages, waiting at most `batch_timeout_ms`.

        Also returns the batch as runs of one partition each (in fetch order), so
        per-partition bookkeeping costs O(partitions) rather than O(messages).
        """
        assert self._consumer is not None
        deadline = time.monotonic() + self.config.batch_timeout_ms / 1000
        messages: list[Message] = []
        runs: list[_Run] = []
        while len(messages) < self.config.batch_size and not self._stopping.is_set():
            remaining_ms = int((deadline - time.monotonic()) * 1000)
            if remaining_ms <= 0 and messages:
                break
            fetched = await self._consumer.getmany(
                timeout_ms=max(remaining_ms, 0),
                max_records=self.config.batch_size - len(messages),
            )
            if not fetched:
                break
            _collect(fetched, messages, runs)
        return messages, runs

    async def _fetch(self) -> _Fetched:
        return self._decoded(*await self._poll())

    async def _top_up(self, fetched: _Fetched) -> _Fetched:
        """The read-ahead batch plus what was fetched since it stopped collecting.

        The read-ahead collects for `batch_timeout_ms` while the previous batch is
        being handled. Records that arrive after that, but before the handling ends,
        would wait for the batch after next, so a busy consumer's batches stayed as
        small as the timeout allowed however long each took to handle, and every batch
        costs a fixed transaction, statements and round trips. Taken now, batches grow
        with the handling time (up to `batch_size`). Only records already fetched: no
        waiting, and nothing is taken ahead of an earlier record of its partition.
        """
        room = self.config.batch_size - len(fetched.messages)
        if room <= 0 or not fetched.messages or self._stopping.is_set():
            return fetched
        assert self._consumer is not None
        arrived = await self._consumer.getmany(timeout_ms=0, max_records=room)
        messages: list[Message] = []
        runs: list[_Run] = []
        _collect(arrived, messages, runs)
        if not messages:
            return fetched
        more = self._decoded(messages, runs)
        return _Fetched(
            fetched.messages + more.messages,
            fetched.runs + more.runs,
            fetched.good + more.good,
            fetched.poison + more.poison,
        )

    def _decoded(self, messages: list[Message], runs: list[_Run]) -> _Fetched:
        good: list[tuple[Message, Envelope[Any]]] = []
        poison: list[tuple[Message, PoisonMessage]] = []
        types = self._types
        for m in messages:
            try:
                good.append((m, decode(m.topic, m.key, m.value, m.headers or (), types)))
            except PoisonMessage as exc:
                poison.append((m, exc))
        return _Fetched(messages, runs, good, poison)

    async def _handle(self, fetched: _Fetched) -> BaseException | None:
        """Process one batch; return the transient failure to rewind for, if any."""
        started = time.perf_counter()
        async with self._lock:
            try:
                await self._process(fetched)
            except DeadLetterLimitExceeded:
                raise
            except Exception as exc:
                if not is_transient(exc):
                    raise
                return exc
        self.stats.batches += 1
        self._batch_size_metric.observe(len(fetched.messages))
        self._batch_latency_metric.observe(time.perf_counter() - started)
        return None

    async def _rewind(self, messages: list[Message], exc: BaseException) -> None:
        """Seek back to the batch start and back off: the batch will be re-polled."""
        assert self._consumer is not None
        self.stats.retries += 1
        first: dict[TopicPartition, int] = {}
        for m in messages:
            tp = TopicPartition(m.topic, m.partition)
            first[tp] = min(first.get(tp, m.offset), m.offset)
            EVENTS_FAILED.labels(self.service, m.topic, self.config.group).inc()
        assigned = self._consumer.assignment()
        for tp, offset in first.items():
            if tp in assigned:
                self._consumer.seek(tp, offset)
        delay = min(
            self.config.backoff_initial * 2 ** min(self.stats.retries, 10), self.config.backoff_max
        )
        log.warning(
            "transient failure in %s, retrying in ~%.1fs: %r", self.config.group, delay, exc
        )
        await self._pause(delay)

    # --- processing ------------------------------------------------------------

    async def _process(self, fetched: _Fetched) -> None:
        poison: list[tuple[Message, str, str]] = [
            (m, exc.reason, exc.detail) for m, exc in fetched.poison
        ]
        self._count_for_policy(fetched)
        # Checked before anything is dead-lettered or committed: a stopped consumer
        # leaves the suspicious messages in place for a fixed deploy to process.
        self._policy.check()
        if fetched.good:
            poison += await self._apply(fetched.good)
        if poison:
            await self._dead_letter(poison)
        # Per partition run, not per message: offsets ascend within a partition.
        decodable: dict[str, int] = {}
        for run in fetched.runs:
            self._pending[run.tp] = run.last + 1
            decodable[run.tp.topic] = decodable.get(run.tp.topic, 0) + run.count
        for m, _exc in fetched.poison:
            decodable[m.topic] -= 1
        for topic, count in decodable.items():
            if count:
                EVENTS_CONSUMED.labels(self.service, topic, self.config.group).inc(count)

    def _count_for_policy(self, fetched: _Fetched) -> None:
        """Feed the DLQ policy each message once, even when a batch is retried."""
        seen = self._policy_seen
        if not fetched.poison and all(
            run.first > seen.get((run.tp.topic, run.tp.partition), -1) for run in fetched.runs
        ):
            # The usual batch: all good, none counted before. Same outcome as one
            # `record(False)` per message, at the cost of one call.
            for run in fetched.runs:
                seen[run.tp.topic, run.tp.partition] = run.last
            self._policy.record_good(len(fetched.messages))
            return
        bad = {id(m) for m, _exc in fetched.poison}
        for m in fetched.messages:
            key = (m.topic, m.partition)
            if m.offset > seen.get(key, -1):
                seen[key] = m.offset
                self._policy.record(id(m) in bad)

    async def _apply(
        self, items: list[tuple[Message, Envelope[Any]]]
    ) -> list[tuple[Message, str, str]]:
        """Apply `items` in one transaction; on a non-transient failure, bisect.

        Returns the messages the handler rejected (to be dead-lettered).
        """
        spans = self._start_spans(items)
        try:
            after = await self._apply_once(items)
        except Exception as exc:
            for span in spans:
                span.record_exception(exc)
            if is_transient(exc):
                raise
            if len(items) == 1:
                reason = exc.reason if isinstance(exc, RejectEvent) else "handler-error"
                detail = (
                    exc.detail if isinstance(exc, RejectEvent) else f"{type(exc).__name__}: {exc}"
                )
                log.warning("event %s rejected: %s", items[0][1].id, detail)
                return [(items[0][0], reason, detail)]
            rejected: list[tuple[Message, str, str]] = []
            for item in items:
                rejected += await self._apply([item])
            return rejected
        finally:
            for span in spans:
                span.end()
        if after is not None:
            await self._defer(after)
        return []

    async def _defer(self, after: AfterCommit) -> None:
        """Start `after` once the previous batch's effect is done, without waiting for it.

        One at a time, in commit order: an earlier batch's values never land after a
        later batch's. Meanwhile the run loop goes on with the next batch, whose
        transaction then overlaps this effect's round trips.
        """
        await self.settle_after_commit()
        self._after_task = asyncio.create_task(
            self._after_commit(after), name=f"after-commit-{self.config.group}"
        )

    async def settle_after_commit(self) -> None:
        """Wait for the running after-commit effect, if any (it never raises)."""
        task, self._after_task = self._after_task, None
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _after_commit(self, after: AfterCommit) -> None:
        """Run a committed batch's side effect, retrying it in place.

        It must not fail the batch: the transaction is committed, so a rewind would
        redeliver the events as duplicates and the effect would never run. Being
        idempotent by contract, it is retried with backoff; past the attempts the
        loss is logged and counted — the derived state (Redis) is rebuilt from
        Postgres, the source of truth.
        """
        delay = self.config.backoff_initial
        for attempt in range(1, self.config.after_commit_attempts + 1):
            try:
                await after()
                return
            except Exception as exc:
                if attempt == self.config.after_commit_attempts or self._stopping.is_set():
                    AFTER_COMMIT_FAILURES.labels(self.service, self.config.group).inc()
                    log.error(
                        "after-commit effect of %s failed %d times, giving up: %r",
                        self.config.group,
                        attempt,
                        exc,
                    )
                    return
                await self._pause(delay)
                delay = min(delay * 2, self.config.backoff_max)

    async def _apply_once(self, items: list[tuple[Message, Envelope[Any]]]) -> AfterCommit | None:
        total = len(items)
        ids = [env.id for _m, env in items]
        if len(set(ids)) != len(ids):  # the same event twice in one batch: apply it once
            unique = {env.id: (m, env) for m, env in reversed(items)}
            items = [unique[event_id] for event_id in dict.fromkeys(ids)]
            ids = [env.id for _m, env in items]
        if not self.config.tracked:
            # The handler keeps its events' identities itself (see `ConsumerConfig.tracked`).
            async with self.pool.acquire() as conn, conn.transaction():
                after = await self.handler([env for _m, env in items], conn)
            self.stats.applied += len(items)
            return after
        topics = [m.topic for m, _env in items]
        partitions = [m.partition for m, _env in items]
        offsets = [m.offset for m, _env in items]
        group = self.config.group
        packed_ids = _ID_SEPARATOR.join(ids)
        packable = packed_ids.count(_ID_SEPARATOR) == len(ids) - 1
        async with self.pool.acquire() as conn:
            # Optimistic: a batch almost never holds an event the group applied before
            # (only after a crash, a rebalance or a relay retry), and a plain INSERT
            # costs Postgres about a third less than ON CONFLICT's speculative one. A
            # duplicate aborts that transaction — nothing was applied — and the batch
            # is applied again, skipping the known ids.
            # After a duplicate, the next batches (a redelivered stretch) go straight
            # to the skipping statement until one comes back without duplicates.
            try:
                if self._expect_duplicates or not packable:
                    raise _AppliedBefore
                async with conn.transaction():
                    try:
                        await conn.execute(
                            _TRACK_NEW,
                            group,
                            packed_ids,
                            ",".join(topics),
                            ",".join(map(str, partitions)),
                            ",".join(map(str, offsets)),
                        )
                    except asyncpg.UniqueViolationError:
                        raise _AppliedBefore from None
                    fresh = [env for _m, env in items]
                    after = await self.handler(fresh, conn)
            except _AppliedBefore:
                async with conn.transaction():
                    applied = set(
                        await conn.fetchval(_TRACK, group, ids, topics, partitions, offsets)
                    )
                    fresh = [env for _m, env in items if env.id in applied]
                    after = await self.handler(fresh, conn) if fresh else None
                self._expect_duplicates = len(fresh) < len(items)
        skipped = total - len(fresh)
        if skipped:
            self.stats.duplicates += skipped
            EVENTS_DUPLICATE.labels(self.service, items[0][0].topic, self.config.group).inc(skipped)
        self.stats.applied += len(fresh)
        return after

    def _start_spans(self, items: list[tuple[Message, Envelope[Any]]]) -> list[Span]:
        if not self._trace_messages:
            return []
        return [
            TRACER.start_span(
                f"process {m.topic}",
                context=context_from_headers(env.headers),
                kind=SpanKind.CONSUMER,
                attributes=process_attributes(
                    m.topic, self.config.group, env.id, m.partition, m.offset
                ),
            )
            for m, env in items
        ]

    async def _dead_letter(self, poison: list[tuple[Message, str, str]]) -> None:
        records = [
            dead_letter_record(m, self.config.group, reason, detail) for m, reason, detail in poison
        ]
        await self.publisher.publish(records)
        for m, reason, _detail in poison:
            self.stats.dead_lettered += 1
            self.stats.dead_letter_reasons[reason] = (
                self.stats.dead_letter_reasons.get(reason, 0) + 1
            )
            EVENTS_DEAD_LETTERED.labels(self.service, m.topic, self.config.group, reason).inc()

    # --- offsets ---------------------------------------------------------------

    async def _commit(self, *, force: bool) -> None:
        """Commit pending offsets (throttled unless forced); report lag."""
        consumer = self._consumer
        if consumer is None or not self._pending:
            return
        if not force and time.monotonic() - self._last_commit < self.config.commit_interval:
            return
        assigned = consumer.assignment()
        offsets = {tp: off for tp, off in self._pending.items() if tp in assigned}
        self._pending.clear()
        self._last_commit = time.monotonic()
        if not offsets:
            return
        try:
            await consumer.commit(offsets)
        except (CommitFailedError, IllegalStateError) as exc:
            # The group rebalanced under us: the new owner re-reads from the last
            # committed offset and the tracking table drops what we already applied.
            log.info("offset commit skipped after rebalance: %s", exc)
            return
        except KafkaError as exc:
            # The broker or coordinator is away (a restart, a network cut). The
            # effects are committed in Postgres already, so nothing is lost either
            # way; keep the offsets for the next attempt (newer ones win) instead of
            # letting a commit failure stop the consumer.
            for tp, off in offsets.items():
                self._pending[tp] = max(off, self._pending.get(tp, off))
            log.warning("offset commit failed for %s, will retry: %r", self.config.group, exc)
            return
        for tp, off in offsets.items():
            highwater = consumer.highwater(tp)
            if highwater is not None:
                CONSUMER_LAG.labels(
                    self.service, self.config.group, tp.topic, str(tp.partition)
                ).set(max(highwater - off, 0))


# Tracking, one statement per batch. `_TRACK_NEW` when no id is expected to be
# known (it fails on a duplicate); `_TRACK` skips the known ids and returns the
# others. `_TRACK_NEW` takes its columns packed in one text parameter each: asyncpg
# encodes a 500-element array element by element (~0.6 µs each, four arrays), a
# joined string in one go. Topic names cannot hold a comma; an event id holding
# the separator is not packed (the batch takes `_TRACK`).
_ID_SEPARATOR: Final = "\x1f"
# The assignment offered to the group coordinator (see `ConsumerConfig.co_partitioned`).
_ASSIGNORS: Final = {
    False: (RoundRobinPartitionAssignor,),
    True: (RangePartitionAssignor,),
}
_TRACK_NEW = """
INSERT INTO processed_events (consumer_group, event_id, topic, kafka_partition, kafka_offset)
SELECT $1, e.id, e.topic, e.part::int, e.off::bigint
FROM unnest(
    string_to_array($2, chr(31)),
    string_to_array($3, ','),
    string_to_array($4, ','),
    string_to_array($5, ',')
) AS e(id, topic, part, off)
"""
_TRACK = """
WITH applied AS (
    INSERT INTO processed_events (consumer_group, event_id, topic, kafka_partition, kafka_offset)
    SELECT $1, e.id, e.topic, e.part, e.off
    FROM unnest($2::text[], $3::text[], $4::int[], $5::bigint[]) AS e(id, topic, part, off)
    ON CONFLICT DO NOTHING
    RETURNING event_id
)
SELECT coalesce(array_agg(event_id), '{}') FROM applied
"""


class _AppliedBefore(Exception):
    """The batch holds an event this group already applied: retry it skipping those."""


def _collect(
    fetched: dict[TopicPartition, list[Message]], messages: list[Message], runs: list[_Run]
) -> None:
    """Append a `getmany` result to `messages`, and a run per partition to `runs`."""
    for tp, records in fetched.items():
        if records:
            messages.extend(records)
            runs.append(_Run(tp, records[0].offset, records[-1].offset, len(records)))


@dataclass(frozen=True, slots=True)
class _Run:
    """Consecutive messages of one partition within a batch."""

    tp: TopicPartition
    first: int
    last: int
    count: int


@dataclass(frozen=True)
class _Fetched:
    messages: list[Message]
    runs: list[_Run]
    good: list[tuple[Message, Envelope[Any]]]
    """Decoded messages, in fetch order."""
    poison: list[tuple[Message, PoisonMessage]]


class _FlushOnRevoke(ConsumerRebalanceListener):  # type: ignore[misc]
    """Commit what was processed before partitions move to another consumer.

    Waits for the batch in hand (the runner's lock) and its after-commit effect, so
    its offsets are committed by this member rather than re-read by the next owner.
    Never sleeps or retries itself (the effect's own retries are bounded).
    """

    def __init__(self, runner: ConsumerRunner) -> None:
        self.runner = runner

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        async with self.runner._lock:
            # The next owner's effects for these partitions must not race ours.
            await self.runner.settle_after_commit()
            with contextlib.suppress(KafkaError):
                await self.runner._commit(force=True)

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        log.info("consumer %s assigned %s", self.runner.config.group, sorted(map(str, assigned)))
