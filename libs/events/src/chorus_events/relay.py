"""The outbox relay: publishes committed outbox rows to Kafka, in order, at least once.

Concurrency and ordering — the subtle part, stated precisely:

* Each claim runs in one transaction. It first takes transaction-scoped advisory
  locks on a random subset of the ordering lanes it can get (`pg_try_advisory_
  xact_lock`, never waiting), then selects unsent rows of those lanes in id order
  with `FOR UPDATE SKIP LOCKED`. Rows of one key share a lane, so while a relay
  holds a lane no other replica can publish a later row of the same key first:
  per-key order is preserved across replicas, and replicas share the work by lane.
* Rows are sent through the idempotent producer in id order and the relay waits
  for every acknowledgement *before* marking them sent and committing. A crash
  between ack and commit republishes those rows (at-least-once); consumers drop
  the duplicates by event id (processed_events), so the effect is exactly once.
* Kafka down: the send fails, the transaction rolls back, the relay backs off
  (exponentially, capped) and retries. Rows stay unsent: the backlog grows and
  drains later. Nothing is lost and nothing is skipped, so order is kept too.
* Wake-ups: a dedicated connection LISTENs on `chorus_outbox_<schema>` (the
  insert trigger NOTIFYs on commit); the relay also polls every `poll_interval`
  so a lost notification or a dropped listener costs latency, never events.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from dataclasses import dataclass

import asyncpg
from chorus_platform.failures import is_infrastructure_failure, report_loop_failure
from chorus_platform.metrics import (
    OUTBOX_BACKLOG,
    OUTBOX_OLDEST_AGE,
    OUTBOX_PUBLISH_ERRORS,
    OUTBOX_PUBLISH_LATENCY,
)
from opentelemetry.trace import SpanKind

from chorus_events.bus import KafkaPublisher
from chorus_events.envelope import KafkaRecord
from chorus_events.outbox import LANES
from chorus_events.tracing import TRACER, attach, context_from_headers, detach, publish_attributes

log = logging.getLogger(__name__)
# Namespace for the lane advisory locks (first key of the two-int form).
_LOCK_NAMESPACE = 0x0C0B


@dataclass(frozen=True)
class RelayConfig:
    batch_size: int = 500
    poll_interval: float = 1.0
    max_lanes_per_claim: int = LANES
    backoff_initial: float = 0.2
    backoff_max: float = 10.0
    sent_retention_hours: float = 24.0
    metrics_interval: float = 5.0


class OutboxRelay:
    """Background worker a service starts in its lifespan (see chorus_platform.app)."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        dsn: str,
        schema: str,
        publisher: KafkaPublisher,
        config: RelayConfig | None = None,
    ) -> None:
        self.pool = pool
        self.dsn = dsn
        self.schema = schema
        self.publisher = publisher
        self.config = config or RelayConfig()
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self.published = 0

    async def start(self) -> None:
        self._stopping.clear()
        self._tasks = [
            asyncio.create_task(self._run(), name=f"outbox-relay-{self.schema}"),
            asyncio.create_task(self._listen(), name=f"outbox-listen-{self.schema}"),
            asyncio.create_task(self._observe(), name=f"outbox-metrics-{self.schema}"),
        ]

    async def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        await self.publisher.stop()

    def wake(self) -> None:
        self._wake.set()

    async def _run(self) -> None:
        backoff = self.config.backoff_initial
        while not self._stopping.is_set():
            try:
                sent = await self.publish_once()
                backoff = self.config.backoff_initial
            except Exception as exc:
                OUTBOX_PUBLISH_ERRORS.labels(self.schema).inc()
                log.warning("outbox publish failed, retrying in %.1fs: %s", backoff, exc)
                await self._pause(backoff * (0.5 + random.random()))
                backoff = min(backoff * 2, self.config.backoff_max)
                continue
            if sent < self.config.batch_size:
                # Drained for now: sleep until a commit notifies us or the poll interval ends.
                await self._pause(self.config.poll_interval)

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)
        self._wake.clear()

    async def publish_once(self) -> int:
        """Claim, publish and mark one batch; return how many rows were sent."""
        async with self.pool.acquire() as conn, conn.transaction():
            lanes = await conn.fetchval(
                "SELECT coalesce(array_agg(lane), '{}') FROM ("
                "  SELECT lane FROM generate_series(0, $2 - 1) AS lane ORDER BY random()"
                ") AS candidates WHERE pg_try_advisory_xact_lock($1, lane) LIMIT $3",
                _LOCK_NAMESPACE,
                LANES,
                self.config.max_lanes_per_claim,
            )
            if not lanes:
                return 0
            rows = await conn.fetch(
                "SELECT id, event_id, topic, key, value, headers, created_at FROM outbox "
                "WHERE sent_at IS NULL AND lane = ANY($1::smallint[]) "
                "ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED",
                lanes,
                self.config.batch_size,
            )
            if not rows:
                return 0
            await self._publish(rows)
            await conn.execute(
                "UPDATE outbox SET sent_at = clock_timestamp() WHERE id = ANY($1::bigint[])",
                [r["id"] for r in rows],
            )
        now = time.time()
        for row in rows:
            OUTBOX_PUBLISH_LATENCY.labels(self.schema).observe(now - row["created_at"].timestamp())
        self.published += len(rows)
        return len(rows)

    async def _publish(self, rows: list[asyncpg.Record]) -> None:
        records = [
            KafkaRecord(
                topic=r["topic"],
                key=r["key"],
                value=r["value"],
                headers=[(k, v.encode("utf-8")) for k, v in r["headers"]],
            )
            for r in rows
        ]
        # One producer span per event, parented by the trace captured at append time.
        spans = []
        for row in rows:
            token = attach(context_from_headers(dict(row["headers"])))
            try:
                spans.append(
                    TRACER.start_span(
                        f"send {row['topic']}",
                        kind=SpanKind.PRODUCER,
                        attributes=publish_attributes(row["topic"], row["event_id"]),
                    )
                )
            finally:
                detach(token)
        try:
            await self.publisher.publish(records)
        finally:
            for span in spans:
                span.end()

    async def _listen(self) -> None:
        channel = f"chorus_outbox_{self.schema}"
        while not self._stopping.is_set():
            conn: asyncpg.Connection | None = None
            try:
                conn = await asyncpg.connect(self.dsn)
                await conn.add_listener(channel, lambda *_: self._wake.set())
                lost = asyncio.Event()
                conn.add_termination_listener(lambda _c, lost=lost: lost.set())
                await lost.wait()
            except Exception as exc:
                # Polling covers a lost listener either way; only a bug is worth a trace.
                if is_infrastructure_failure(exc):
                    log.debug("outbox listener unavailable (%r); polling covers it", exc)
                else:
                    log.error("outbox listener failed; polling covers it", exc_info=exc)
            finally:
                if conn is not None and not conn.is_closed():
                    await conn.close()
            await asyncio.sleep(self.config.poll_interval)

    async def _observe(self) -> None:
        """Export backlog metrics and purge rows sent longer ago than the retention."""
        while not self._stopping.is_set():
            try:
                async with self.pool.acquire() as conn:
                    row = await conn.fetchrow(
                        "SELECT count(*) AS backlog, "
                        "extract(epoch FROM clock_timestamp() - min(created_at)) AS age "
                        "FROM outbox WHERE sent_at IS NULL"
                    )
                    await conn.execute(
                        "DELETE FROM outbox WHERE sent_at < clock_timestamp() - make_interval("
                        "secs => $1)",
                        self.config.sent_retention_hours * 3600,
                    )
                assert row is not None
                OUTBOX_BACKLOG.labels(self.schema).set(row["backlog"])
                OUTBOX_OLDEST_AGE.labels(self.schema).set(float(row["age"] or 0.0))
            except Exception as exc:
                report_loop_failure(
                    log, "outbox metrics and purge", exc, self.config.metrics_interval
                )
            await asyncio.sleep(self.config.metrics_interval)
