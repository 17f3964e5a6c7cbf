"""Making a click durable before its redirect: two interchangeable recorders.

* `KafkaClickRecorder` produces to `clicks.raw` through the idempotent producer
  and waits for acks=all. Concurrent clicks share producer batches (linger), so
  the cost per click is small; if Kafka is down, redirects answer 503.
* `OutboxClickRecorder` inserts the encoded event into the outbox; the relay
  publishes it. Concurrent clicks are group-committed (one transaction per
  flush) so the WAL is synced once per batch, not once per click. Survives a
  Kafka outage, but every click is written to Postgres, read back and deleted.

Both use the click id as the CloudEvents id, so a consumer deduplicating by
event id sees one click even if it was written twice. Which one runs is the
`click_durability` setting; README ("Recording clicks") has the measurements.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Protocol

import asyncpg
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


class ClickRecorder(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def record(self, click: ClickRecorded) -> None:
        """Return only once `click` is durable; raise `ClickNotRecorded` otherwise."""
        ...


class KafkaClickRecorder:
    def __init__(self, publisher: KafkaPublisher, *, partitions: int, timeout: float) -> None:
        self.publisher = publisher
        self.partitions = partitions
        self.timeout = timeout

    async def start(self) -> None:
        with contextlib.suppress(Exception):  # Kafka may come later; record() then retries
            await ensure_topics(self.publisher.bootstrap, [CLICK_RECORDED.topic], self.partitions)
            await self.publisher.start()

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
            await asyncio.wait_for(self.publisher.publish([record]), self.timeout)
        except Exception as exc:
            CLICKS_RECORDED.labels("kafka", "failed").inc()
            log.warning("click not recorded in Kafka: %s", type(exc).__name__)
            raise ClickNotRecorded("the click could not be recorded; try again") from exc
        CLICKS_RECORDED.labels("kafka", "ok").inc()


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
            await asyncio.wait_for(asyncio.shield(done), self.timeout)
        except Exception as exc:
            CLICKS_RECORDED.labels("outbox", "failed").inc()
            raise ClickNotRecorded("the click could not be recorded; try again") from exc
        CLICKS_RECORDED.labels("outbox", "ok").inc()

    async def _flush(self) -> None:
        while self._queue:
            batch, self._queue = self._queue[: self.max_batch], self._queue[self.max_batch :]
            try:
                async with self.pool.acquire() as conn, conn.transaction():
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
