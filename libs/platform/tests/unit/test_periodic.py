"""A periodic worker's loop survives whatever a step fails on, and stop() still ends it."""

from __future__ import annotations

import asyncio
import logging

import asyncpg
import pytest
from chorus_platform.failures import is_infrastructure_failure
from chorus_platform.periodic import PeriodicWorker

pytestmark = pytest.mark.unit


class Scripted(PeriodicWorker):
    """Raises the scripted failures one step each, then succeeds."""

    def __init__(self, failures: list[BaseException]) -> None:
        super().__init__(name="scripted", interval=0.001)
        self.failures = failures
        self.steps = 0
        self.succeeded = asyncio.Event()

    async def step(self) -> bool:
        self.steps += 1
        if self.failures:
            raise self.failures.pop(0)
        self.succeeded.set()
        return False


async def test_the_loop_goes_on_after_any_failure(caplog: pytest.LogCaptureFixture) -> None:
    worker = Scripted(
        [
            # What a pooled connection raised right after PostgreSQL restarted: this
            # ended the metrics flusher's loop for good before.
            asyncpg.InternalClientError("cannot switch to state 15; another operation (2)"),
            asyncpg.CannotConnectNowError("the database system is starting up"),
            ValueError("a bug or bad data"),
        ]
    )
    await worker.start()
    try:
        await asyncio.wait_for(worker.succeeded.wait(), timeout=10)
    finally:
        await asyncio.wait_for(worker.stop(), timeout=10)
    assert worker.steps == 4
    levels = [r.levelno for r in caplog.records if r.name == "chorus_platform.periodic"]
    # Infrastructure failures are warnings; anything else is logged with its traceback.
    assert levels == [logging.WARNING, logging.WARNING, logging.ERROR]
    error = next(r for r in caplog.records if r.levelno == logging.ERROR)
    assert error.exc_info is not None


@pytest.mark.parametrize(
    ("exc", "infrastructure"),
    [
        (asyncpg.InternalClientError("cannot switch to state 15"), True),
        (asyncpg.InterfaceError("connection is closed"), True),
        (asyncpg.CrashShutdownError("crash"), True),
        (asyncpg.DiskFullError("no space"), True),
        (ConnectionResetError(), True),
        (asyncpg.UniqueViolationError("duplicate"), False),
        (ValueError("bad"), False),
    ],
)
def test_infrastructure_failures_are_told_from_the_rest(
    exc: BaseException, infrastructure: bool
) -> None:
    assert is_infrastructure_failure(exc) is infrastructure
