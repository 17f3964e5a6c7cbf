"""The flusher: turns dirty shares into `engagement.updated` events through the outbox.

Ingestion only adds to a share's totals and marks it dirty; this worker emits,
per share, the difference between its totals and what the previous event said.
So the event rate per share is bounded (one per `min_interval`, however viral
the share) and no delta is ever lost: a change that lands after a claim is
still in the totals and makes the share dirty again, and the next event's delta
includes it. Claim, append and "mark emitted" commit in one transaction; two
flushers claim disjoint shares (SKIP LOCKED).
"""

from __future__ import annotations

import logging

import asyncpg
from chorus_events.contracts import ENGAGEMENT_UPDATED
from chorus_events.outbox import append_events
from chorus_platform.app import ServiceContext, Worker, WorkerFactory
from chorus_platform.periodic import PeriodicWorker

from chorus_metrics.aggregation import repository
from chorus_metrics.aggregation.events import build
from chorus_metrics.settings import MetricsSettings
from chorus_metrics.telemetry import ENGAGEMENT_EMITTED

log = logging.getLogger(__name__)
SOURCE = "/chorus/metrics"


async def flush_once(pool: asyncpg.Pool, *, min_interval: float, limit: int) -> int:
    """Emit one batch of due shares; return how many were claimed."""
    async with pool.acquire() as conn, conn.transaction():
        rows = await repository.claim_dirty(conn, min_interval=min_interval, limit=limit)
        events = [build(row) for row in rows]
        emitted = [event is not None for event in events]
        await append_events(
            conn, ENGAGEMENT_UPDATED, [e for e in events if e is not None], source=SOURCE
        )
        if rows:
            await repository.mark_emitted(
                conn, [(r["tenant_id"], r["share_id"]) for r in rows], emitted
            )
    ENGAGEMENT_EMITTED.inc(sum(emitted))
    return len(rows)


class Flusher(PeriodicWorker):
    """Background worker: flushes until fewer than `limit` shares were due, then waits."""

    def __init__(
        self, pool: asyncpg.Pool, *, min_interval: float, poll_interval: float, limit: int
    ) -> None:
        super().__init__(name="metrics-flusher", interval=poll_interval)
        self.pool = pool
        self.min_interval = min_interval
        self.limit = limit

    async def step(self) -> bool:
        claimed = await flush_once(self.pool, min_interval=self.min_interval, limit=self.limit)
        return claimed >= self.limit


def flusher(settings: MetricsSettings) -> WorkerFactory:
    def build_worker(ctx: ServiceContext) -> Worker:
        worker = Flusher(
            ctx.pool,
            min_interval=settings.flush_min_interval,
            poll_interval=settings.flush_poll_interval,
            limit=settings.flush_batch_size,
        )
        ctx.extras["flusher"] = worker
        return worker

    return build_worker
