"""Clicks through the outbox: group-committed inserts, published by the relay."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import asyncpg
from chorus_events.contracts.clicks import ClickRecorded
from chorus_events.contracts.registry import CLICK_RECORDED
from chorus_events.outbox import append_event

from chorus_sharing.errors import ClickNotRecorded
from chorus_sharing.metrics import CLICKS_RECORDED

log = logging.getLogger(__name__)
SOURCE = "/chorus/sharing"
_OUTBOX_OK = CLICKS_RECORDED.labels("outbox", "ok")
_OUTBOX_FAILED = CLICKS_RECORDED.labels("outbox", "failed")


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
