"""`EngineControl`: stop and restart a local engine (Kafka, PostgreSQL, Redis) from a
fault-injection test.

Only an engine the local stack manages can be controlled (an external or container one
is not ours to stop); the `kafka_control`/`postgres_control`/`redis_control` fixtures
skip the test otherwise.
"""

from __future__ import annotations

import asyncio
from typing import Protocol


class _Stack(Protocol):
    def stop_component(self, name: str) -> bool: ...
    def start_component(self, name: str) -> None: ...
    def is_managed(self, name: str) -> bool: ...


class EngineControl:
    """`await stop()` / `await start()` (or the `_sync` twins in synchronous tests).

    `start` returns only once the broker answers metadata requests again.
    """

    def __init__(self, stack: _Stack, component: str = "kafka") -> None:
        self._stack = stack
        self.component = component

    @property
    def running(self) -> bool:
        return self._stack.is_managed(self.component)

    def stop_sync(self) -> None:
        self._stack.stop_component(self.component)

    def start_sync(self) -> None:
        self._stack.start_component(self.component)

    async def stop(self) -> None:
        # In a thread: stopping waits for the JVM's clean shutdown, which must not
        # block the event loop the code under test runs on.
        await asyncio.to_thread(self.stop_sync)

    async def start(self) -> None:
        await asyncio.to_thread(self.start_sync)


KafkaControl = EngineControl
"""The name the backbone's fault tests know it by."""
