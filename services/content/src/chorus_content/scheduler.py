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
from collections.abc import Coroutine
from typing import Any

import asyncpg
from chorus_platform.app import ServiceContext, Worker, WorkerFactory

from chorus_content.db import Tx, transaction
from chorus_content.items import lifecycle
from chorus_content.items.schemas import ContentItem
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
        for step in (self._publish_batch, self._expire_batch):
            while True:
                claimed, done = await step()
                moved += done
                if claimed < self.batch_size:
                    break
        return moved

    async def _publish_batch(self) -> tuple[int, int]:
        async with transaction(self.pool) as tx:
            due = await tx.items.claim_due_publications(self.batch_size)
            now = await tx.now()
            done = 0
            for tenant_id, item in due:
                done += await _isolated(tx, lifecycle.publish(tx, tenant_id, item, at=now))
        self.published += done
        return len(due), done

    async def _expire_batch(self) -> tuple[int, int]:
        async with transaction(self.pool) as tx:
            due = await tx.items.claim_due_expiries(self.batch_size)
            now = await tx.now()
            done = 0
            for tenant_id, item in due:
                done += await _isolated(tx, lifecycle.expire(tx, tenant_id, item, at=now))
        self.expired += done
        return len(due), done

    async def _run(self) -> None:
        while True:
            try:
                await self.tick()
            except Exception:
                # The database may be briefly away: nothing was committed, retry next tick.
                log.exception("scheduler tick failed")
            await asyncio.sleep(self.poll_interval)


async def _isolated(tx: Tx, step: Coroutine[Any, Any, ContentItem]) -> int:
    """Run one item's step in a savepoint: 1 if it committed, 0 if it failed.

    One item that cannot move (it should not happen: approval validates the event
    it will produce) must not hold back every other tenant's publications; it
    stays in its state, is logged, and is tried again next tick.
    """
    try:
        async with tx.conn.transaction():  # nested: a savepoint
            item = await step
    except Exception:
        log.exception("scheduler could not move an item; it stays as it is")
        return 0
    log.info("scheduler moved item", extra={"item_id": item.id, "state": item.state.value})
    return 1


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
