"""The fold: applies pending contributor- and engagement-rollup deltas (0009, 0013), each
in one set-based upsert.

The share triggers (migration 0009) append one delta row per changed share in the
writer's transaction; `fold_contributor_rollups()` deletes them and adds them to
`contributor_rollups` in one transaction, so each delta counts exactly once. Folding
every second merges all the clicks an advocate got meanwhile into one row write per
(period, scope), instead of ~8 non-HOT row writes per click.
"""

from __future__ import annotations

import asyncpg
from chorus_platform.app import ServiceContext, Worker, WorkerFactory
from chorus_platform.periodic import PeriodicWorker

from chorus_metrics.settings import MetricsSettings


async def fold_rollups(conn: asyncpg.Connection) -> int:
    """Fold every delta committed so far (waits for a fold in progress); return how many.

    Also the "fold now" of tests and benches, before they read the rankings.
    """
    async with conn.transaction():
        return int(
            await conn.fetchval("SELECT fold_contributor_rollups() + fold_engagement_rollups()")
        )


class RollupFolder(PeriodicWorker):
    """Background worker: a fold every `interval` s."""

    def __init__(self, pool: asyncpg.Pool, *, interval: float) -> None:
        super().__init__(name="metrics-rollup-fold", interval=interval)
        self.pool = pool

    async def step(self) -> bool:
        async with self.pool.acquire() as conn:
            await fold_rollups(conn)
        return False


def rollup_folder(settings: MetricsSettings) -> WorkerFactory:
    def build_worker(ctx: ServiceContext) -> Worker:
        worker = RollupFolder(ctx.pool, interval=settings.rollup_fold_interval)
        ctx.extras["rollup_folder"] = worker
        return worker

    return build_worker
