"""The fold: applies pending contributor-rollup deltas in one set-based upsert.

The share triggers (migration 0009) append one delta row per changed share in the
writer's transaction; `fold_contributor_rollups()` deletes them and adds them to
`contributor_rollups` in one transaction, so each delta counts exactly once. Folding
every second merges all the clicks an advocate got meanwhile into one row write per
(period, scope), instead of ~8 non-HOT row writes per click.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random

import asyncpg
from chorus_platform.app import ServiceContext, Worker, WorkerFactory

from chorus_metrics.settings import MetricsSettings

log = logging.getLogger(__name__)


async def fold_rollups(conn: asyncpg.Connection) -> int:
    """Fold every delta committed so far (waits for a fold in progress); return how many.

    Also the "fold now" of tests and benches, before they read the rankings.
    """
    async with conn.transaction():
        return int(await conn.fetchval("SELECT fold_contributor_rollups()"))


class RollupFolder:
    """Background worker (see chorus_platform.app.Worker): a fold every `interval` s."""

    def __init__(self, pool: asyncpg.Pool, *, interval: float) -> None:
        self.pool = pool
        self.interval = interval
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._stopping.clear()
        self._task = asyncio.create_task(self._run(), name="metrics-rollup-fold")

    async def stop(self) -> None:
        self._stopping.set()
        if self._task is not None:
            await self._task
            self._task = None

    async def _run(self) -> None:
        backoff = self.interval
        while not self._stopping.is_set():
            try:
                async with self.pool.acquire() as conn:
                    await fold_rollups(conn)
                backoff = self.interval
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("rollup fold failed, retrying in %.1fs: %s", backoff, exc)
                backoff = min(backoff * 2, 10.0)
                await self._pause(backoff * (0.5 + random.random()))
                continue
            await self._pause(self.interval)

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)


def rollup_folder(settings: MetricsSettings) -> WorkerFactory:
    def build_worker(ctx: ServiceContext) -> Worker:
        worker = RollupFolder(ctx.pool, interval=settings.rollup_fold_interval)
        ctx.extras["rollup_folder"] = worker
        return worker

    return build_worker
