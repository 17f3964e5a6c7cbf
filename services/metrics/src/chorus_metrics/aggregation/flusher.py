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

import asyncio
import contextlib
import logging
import random

import asyncpg
from chorus_events.contracts import ENGAGEMENT_UPDATED
from chorus_events.outbox import append_events
from chorus_platform.app import ServiceContext, Worker, WorkerFactory

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


class Flusher:
    """Background worker (see chorus_platform.app.Worker)."""

    def __init__(
        self, pool: asyncpg.Pool, *, min_interval: float, poll_interval: float, limit: int
    ) -> None:
        self.pool = pool
        self.min_interval = min_interval
        self.poll_interval = poll_interval
        self.limit = limit
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._stopping.clear()
        self._task = asyncio.create_task(self._run(), name="metrics-flusher")

    async def stop(self) -> None:
        self._stopping.set()
        if self._task is not None:
            await self._task
            self._task = None

    async def _run(self) -> None:
        backoff = self.poll_interval
        while not self._stopping.is_set():
            try:
                claimed = await flush_once(
                    self.pool, min_interval=self.min_interval, limit=self.limit
                )
                backoff = self.poll_interval
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("flush failed, retrying in %.1fs: %s", backoff, exc)
                await self._pause(backoff * (0.5 + random.random()))
                backoff = min(backoff * 2, 10.0)
                continue
            if claimed < self.limit:
                await self._pause(self.poll_interval)

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)


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
