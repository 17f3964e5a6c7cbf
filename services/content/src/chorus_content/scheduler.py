"""The scheduler: publishes approved items when `publish_at` passes and expires
published ones when `expires_at` does. A `Worker` of the service's lifespan.

Safe with any number of replicas, each event emitted exactly once: a tick
claims due rows with `SELECT ... FOR UPDATE SKIP LOCKED` and, in the same
transaction, moves each to its next state, records the audit entry and appends
the event to the outbox. A row another replica holds is skipped, not waited
for; once that replica commits, the row is no longer in the state the query
looks for, so no replica can act on it twice. A crash before commit releases
the locks and leaves everything as it was, for the next tick.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import asyncpg
from chorus_platform.app import ServiceContext, Worker, WorkerFactory

from chorus_content.db import transaction
from chorus_content.items import lifecycle
from chorus_content.settings import ContentSettings

log = logging.getLogger(__name__)


class Scheduler:
    def __init__(self, pool: asyncpg.Pool, *, poll_interval: float, batch_size: int) -> None:
        self.pool = pool
        self.poll_interval = poll_interval
        self.batch_size = batch_size
        self._task: asyncio.Task[None] | None = None
        self.published = 0
        self.expired = 0

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="content-scheduler")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def tick(self) -> int:
        """Publish, then expire, everything due now; return how many items moved."""
        moved = 0
        # Publish first: an item whose publish_at and expires_at both passed while
        # nobody ran is announced, then retired, so consumers see a consistent story.
        while (count := await self._publish_batch()) > 0:
            moved += count
        while (count := await self._expire_batch()) > 0:
            moved += count
        return moved

    async def _publish_batch(self) -> int:
        async with transaction(self.pool) as tx:
            due = await tx.items.claim_due_publications(self.batch_size)
            now = await tx.now()
            for tenant_id, item in due:
                await lifecycle.publish(tx, tenant_id, item, at=now)
        self.published += len(due)
        return len(due)

    async def _expire_batch(self) -> int:
        async with transaction(self.pool) as tx:
            due = await tx.items.claim_due_expiries(self.batch_size)
            now = await tx.now()
            for tenant_id, item in due:
                await lifecycle.expire(tx, tenant_id, item, at=now)
        self.expired += len(due)
        return len(due)

    async def _run(self) -> None:
        while True:
            try:
                await self.tick()
            except Exception:
                # The database may be briefly away: nothing was committed, retry next tick.
                log.exception("scheduler tick failed")
            await asyncio.sleep(self.poll_interval)


def scheduler() -> WorkerFactory:
    def build(ctx: ServiceContext) -> Worker:
        settings = ctx.settings
        assert isinstance(settings, ContentSettings)
        worker = Scheduler(
            ctx.pool,
            poll_interval=settings.scheduler_poll_interval,
            batch_size=settings.scheduler_batch_size,
        )
        ctx.extras["scheduler"] = worker
        return worker

    return build
