"""Await a condition with a deadline: the one way tests synchronise (never blind sleeps)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable


async def eventually(
    predicate: Callable[[], Awaitable[bool]],
    *,
    timeout: float = 30.0,  # noqa: ASYNC109 (a polling deadline, not a cancellation scope)
    interval: float = 0.05,
    what: str = "condition",
) -> float:
    """Poll `predicate` until it is true; return the seconds it took.

    Raises AssertionError naming `what` when the deadline passes.
    """
    started = time.monotonic()
    while True:
        if await predicate():
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        await asyncio.sleep(interval)
