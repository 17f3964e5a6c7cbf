"""Background worker that posts scheduled shares when their time comes.

Any number of instances may run: each claim is a transaction that locks the due
rows it takes with `FOR UPDATE SKIP LOCKED` and, in the same transaction, marks
them posted and appends their `share.posted` events. A row is therefore posted
by exactly one instance, and its event exists iff its state says posted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable

from chorus_sharing.metrics import SCHEDULED_PUBLISHED
from chorus_sharing.scheduling import DueShares

log = logging.getLogger(__name__)


class ScheduledSharePublisher:
    def __init__(
        self,
        publish_due: Callable[[int], Awaitable[DueShares]],
        *,
        interval: float,
        batch: int,
        backoff_max: float = 30.0,
    ) -> None:
        self.publish_due = publish_due
        self.interval = interval
        self.batch = batch
        self.backoff_max = backoff_max
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.posted = 0
        """Shares this instance posted (tests and diagnostics)."""

    async def start(self) -> None:
        self._stopping.clear()
        self._task = asyncio.create_task(self._run(), name="share-scheduler")

    async def stop(self) -> None:
        self._stopping.set()
        if self._task is not None:
            # A claim in progress finishes (its transaction commits or rolls back).
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        delay = self.interval
        while not self._stopping.is_set():
            try:
                result = await self.publish_due(self.batch)
                SCHEDULED_PUBLISHED.labels("posted").inc(result.posted)
                SCHEDULED_PUBLISHED.labels("cancelled").inc(result.cancelled)
                self.posted += result.posted
                delay = 0.0 if result.handled >= self.batch else self.interval  # backlog: go on
            except Exception:
                log.exception("scheduled shares could not be published; retrying")
                delay = min(max(delay, self.interval) * 2, self.backoff_max)
            with contextlib.suppress(TimeoutError):
                # Jitter spreads instances apart so they rarely claim at the same instant.
                await asyncio.wait_for(self._stopping.wait(), delay * (0.8 + 0.4 * random.random()))
