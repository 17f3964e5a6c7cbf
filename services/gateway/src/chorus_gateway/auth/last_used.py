"""API keys' last-used time, written cheaply: remembered in memory, flushed in one
UPDATE every few seconds (and on shutdown), never one write per request."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime

from chorus_gateway.auth.repository import AuthRepository

log = logging.getLogger(__name__)


class LastUsedRecorder:
    def __init__(self, repository: AuthRepository, interval: float) -> None:
        self.repository = repository
        self.interval = interval
        self._pending: dict[str, datetime] = {}
        self._task: asyncio.Task[None] | None = None

    def mark(self, key_id: str) -> None:
        self._pending[key_id] = datetime.now(UTC)

    async def flush(self) -> None:
        if not self._pending:
            return
        used, self._pending = self._pending, {}
        try:
            await self.repository.touch_api_keys(used)
        except Exception:
            log.exception("could not record API keys' last use; retrying next time")
            for key_id, at in used.items():
                self._pending.setdefault(key_id, at)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            await self.flush()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="api-key-last-used")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.flush()
