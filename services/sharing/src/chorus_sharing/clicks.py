"""Making a click durable before its redirect: two interchangeable recorders.

* `KafkaClickRecorder` produces to `clicks.raw` through the idempotent producer
  and waits for acks=all. Concurrent clicks share producer batches (linger), so
  the cost per click is small; if Kafka is down, redirects answer 503.
* `OutboxClickRecorder` inserts the encoded event into the outbox; the relay
  publishes it. Concurrent clicks are group-committed (one transaction per
  flush) so the WAL is synced once per batch, not once per click. Survives a
  Kafka outage, but every click is written to Postgres, read back and deleted.
* `FallbackClickRecorder` (the default) uses Kafka and falls back to the outbox
  while Kafka fails.

Both use the click id as the CloudEvents id, so a consumer deduplicating by
event id sees one click even if it was written twice. Which one runs is the
`click_durability` setting; README ("Recording clicks") has the measurements.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Protocol

import asyncpg
from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner
from chorus_events.bus import KafkaPublisher, ensure_topics
from chorus_events.contracts.clicks import ClickRecorded
from chorus_events.contracts.registry import CLICK_RECORDED
from chorus_events.envelope import encode
from chorus_events.outbox import append_event
from chorus_events.tracing import current_trace_headers

from chorus_sharing.errors import ClickNotRecorded
from chorus_sharing.metrics import CLICKS_RECORDED

log = logging.getLogger(__name__)
SOURCE = "/chorus/sharing"
_KAFKA_OK = CLICKS_RECORDED.labels("kafka", "ok")
_KAFKA_FAILED = CLICKS_RECORDED.labels("kafka", "failed")
_OUTBOX_OK = CLICKS_RECORDED.labels("outbox", "ok")
_OUTBOX_FAILED = CLICKS_RECORDED.labels("outbox", "failed")
_FALLBACK = CLICKS_RECORDED.labels("kafka", "fell_back_to_outbox")


class ClickRecorder(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def record(self, click: ClickRecorded) -> None:
        """Return only once `click` is durable; raise `ClickNotRecorded` otherwise."""
        ...


class CachedPartitioner:
    """aiokafka's default partitioner (Java-compatible murmur2) with a bounded memo.

    aiokafka's murmur2 is pure Python and costs more than building the record;
    clicks repeat their keys (`tenant:share`) all the time, so a memo makes it
    nearly free. Same partition for the same key as any other Kafka client.
    """

    def __init__(self, size: int = 65_536) -> None:
        self.size = size
        self._memo: dict[tuple[bytes, int], int] = {}

    def __call__(self, key: bytes | None, all_partitions: list[int], available: list[int]) -> int:
        if key is None:
            return int(DefaultPartitioner()(key, all_partitions, available))
        memo_key = (key, len(all_partitions))
        partition = self._memo.get(memo_key)
        if partition is None:
            partition = int(DefaultPartitioner()(key, all_partitions, available))
            if len(self._memo) >= self.size:
                self._memo.clear()  # crude but bounded; a refill costs one hash per key
            self._memo[memo_key] = partition
        return partition


class ClickPublisher(KafkaPublisher):
    """`KafkaPublisher` without linger: a redirect waits for its click's ack.

    The shared publisher lingers 5 ms to fill batches, which is right for the
    outbox relay (it sends hundreds at once) and wrong here: measured on the
    local stack, 32 concurrent acks=all sends take p50 10.5 ms / p99 34 ms with
    linger 5 and p50 3.7 ms / p99 13 ms with linger 0, and batching still happens
    because records queue up while a request is in flight. Same settings
    otherwise (idempotent, acks=all), plus a memoising partitioner. Goes away
    when `KafkaPublisher` takes `linger_ms` and `partitioner` (proposed).
    """

    def __init__(self, bootstrap: str, service: str) -> None:
        super().__init__(bootstrap, service)
        self._starting = asyncio.Lock()

    async def start(self) -> None:
        if self._producer is not None:
            return
        # publish() calls start(); without the lock, the first burst of concurrent
        # clicks would each build a producer and leak all but one.
        async with self._starting:
            if self._producer is None:
                await self._start_producer()

    async def _start_producer(self) -> None:
        producer = AIOKafkaProducer(
            bootstrap_servers=self.bootstrap,
            enable_idempotence=True,
            acks="all",
            linger_ms=0,
            partitioner=CachedPartitioner(),
            request_timeout_ms=self.request_timeout_ms,
            client_id=f"chorus-{self.service}",
        )
        try:
            await producer.start()
        except BaseException:
            await producer.stop()
            raise
        self._producer = producer


class KafkaClickRecorder:
    def __init__(self, publisher: KafkaPublisher, *, partitions: int, timeout: float) -> None:
        self.publisher = publisher
        self.partitions = partitions
        self.timeout = timeout

    async def start(self) -> None:
        # Kafka may be down at start-up: redirects then answer 503 until it is back
        # (record() starts the publisher on demand), rather than the service failing.
        try:
            await ensure_topics(self.publisher.bootstrap, [CLICK_RECORDED.topic], self.partitions)
            await self.publisher.start()
        except Exception as exc:
            log.warning("click publisher not started yet: %s", type(exc).__name__)

    async def stop(self) -> None:
        await self.publisher.stop()

    async def record(self, click: ClickRecorded) -> None:
        record = encode(
            CLICK_RECORDED,
            click,
            source=SOURCE,
            event_id=str(click.click_id),
            time=click.occurred_at,
            extra_headers=current_trace_headers(),
        )
        try:
            async with asyncio.timeout(self.timeout):
                await self.publisher.publish([record])
        except Exception as exc:
            _KAFKA_FAILED.inc()
            log.warning("click not recorded in Kafka: %s", type(exc).__name__)
            raise ClickNotRecorded("the click could not be recorded; try again") from exc
        _KAFKA_OK.inc()


class OutboxClickRecorder:
    """Group commit: while one transaction commits, arriving clicks queue for the next."""

    def __init__(self, pool: asyncpg.Pool, *, timeout: float, max_batch: int = 500) -> None:
        self.pool = pool
        self.timeout = timeout
        self.max_batch = max_batch
        self._queue: list[tuple[ClickRecorded, asyncio.Future[None]]] = []
        self._flusher: asyncio.Task[None] | None = None

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        if self._flusher is not None:
            with contextlib.suppress(Exception):
                await self._flusher

    async def record(self, click: ClickRecorded) -> None:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append((click, done))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush(), name="click-outbox-flush")
        try:
            # shield: a caller giving up must not cancel the batch other callers wait on.
            async with asyncio.timeout(self.timeout):
                await asyncio.shield(done)
        except Exception as exc:
            _OUTBOX_FAILED.inc()
            raise ClickNotRecorded("the click could not be recorded; try again") from exc
        _OUTBOX_OK.inc()

    async def _flush(self) -> None:
        while self._queue:
            batch, self._queue = self._queue[: self.max_batch], self._queue[self.max_batch :]
            try:
                async with self.pool.acquire() as conn, conn.transaction():
                    # The 302 waits for this commit, so it must really be on disk even
                    # where the server runs with synchronous_commit=off (the dev stack).
                    await conn.execute("SET LOCAL synchronous_commit TO on")
                    for click, _done in batch:
                        await append_event(
                            conn,
                            CLICK_RECORDED,
                            click,
                            source=SOURCE,
                            event_id=str(click.click_id),
                            time=click.occurred_at,
                        )
            except Exception as exc:
                log.warning("clicks not recorded in the outbox: %s", type(exc).__name__)
                for _click, done in batch:
                    if not done.done():
                        done.set_exception(exc)
                continue
            for _click, done in batch:
                if not done.done():
                    done.set_result(None)


class FallbackClickRecorder:
    """Kafka first; the outbox when Kafka fails, and for `retry_after` seconds after.

    The redirect's availability then depends on Kafka *or* Postgres, not on
    Kafka alone. A Kafka send that timed out may still be delivered later, and
    the outbox copy then arrives too: both carry the click id as event id, and
    consumers deduplicate by it (the contract says so), so the click counts once.
    """

    def __init__(
        self,
        primary: KafkaClickRecorder,
        fallback: OutboxClickRecorder,
        *,
        retry_after: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.primary = primary
        self.fallback = fallback
        self.retry_after = retry_after
        self.clock = clock
        self._kafka_from = 0.0

    async def start(self) -> None:
        await self.primary.start()
        await self.fallback.start()

    async def stop(self) -> None:
        await self.primary.stop()
        await self.fallback.stop()

    async def record(self, click: ClickRecorded) -> None:
        if self.clock() >= self._kafka_from:
            try:
                await self.primary.record(click)
                return
            except ClickNotRecorded:
                if self.clock() >= self._kafka_from:
                    log.warning("clicks go to the outbox for %.0fs: Kafka failed", self.retry_after)
                self._kafka_from = self.clock() + self.retry_after
        _FALLBACK.inc()
        await self.fallback.record(click)
