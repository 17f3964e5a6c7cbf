"""Background worker: freezes finished contests and draws finished raffles.

Safe with several instances: each contest or raffle is claimed with
`FOR UPDATE SKIP LOCKED` in its own transaction and its state is checked, so
two schedulers never work on the same one and none is processed twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from chorus_rewards.contests import ContestService
from chorus_rewards.raffles import RaffleService

log = logging.getLogger(__name__)


class ContestScheduler:
    def __init__(
        self, contests: ContestService, raffles: RaffleService, interval: float, grace: float
    ) -> None:
        self.contests = contests
        self.raffles = raffles
        self.interval = interval
        self.grace = grace
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def run_once(self) -> tuple[int, int]:
        """(contests frozen, raffles drawn) in this pass."""
        return (
            await self.contests.freeze_due(self.grace),
            await self.raffles.draw_due(self.grace),
        )

    async def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                await self.run_once()
            except Exception:  # a database outage must not end the loop; retry next tick
                log.exception("contest scheduler pass failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.interval)

    async def start(self) -> None:
        self._stopping.clear()
        self._task = asyncio.create_task(self._loop(), name="rewards-contest-scheduler")

    async def stop(self) -> None:
        self._stopping.set()
        if self._task is not None:
            await self._task
