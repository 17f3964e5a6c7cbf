"""A background worker that runs one database step again and again (`Worker` in app.py).

One shared way for the service loops that tick against PostgreSQL (the metrics
flusher, the contributor-rollup fold): start and stop through an event, so stop()
returns as soon as the current step ends; a step that fails is logged
(`chorus_platform.failures`) and retried after a capped exponential backoff with
jitter, so replicas that failed together do not retry in lockstep. Whatever it
failed on, the loop goes on: only stop() ends it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random

from chorus_platform.failures import report_loop_failure

log = logging.getLogger(__name__)
BACKOFF_MAX = 10.0


class PeriodicWorker:
    """Subclasses give `step()`: True when more work is waiting (run again at once)."""

    def __init__(self, *, name: str, interval: float) -> None:
        self.name = name
        self.interval = interval
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def step(self) -> bool:
        raise NotImplementedError

    async def start(self) -> None:
        self._stopping.clear()
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        self._stopping.set()
        if self._task is not None:
            await self._task
            self._task = None

    async def _run(self) -> None:
        backoff = self.interval
        while not self._stopping.is_set():
            try:
                more = await self.step()
                backoff = self.interval
            except Exception as exc:
                report_loop_failure(log, self.name, exc, backoff)
                await self._pause(backoff * (0.5 + random.random()))
                backoff = min(backoff * 2, BACKOFF_MAX)
                continue
            if not more:
                await self._pause(self.interval)

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)
