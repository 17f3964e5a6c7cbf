"""Making a click durable before its redirect: two interchangeable recorders.

* `KafkaClickRecorder` produces to `clicks.raw` through the shared idempotent
  publisher and waits for acks=all. Concurrent clicks are group-sent (one batch
  per partition while the previous one is in flight), so the cost per click is
  small; if Kafka is down, redirects answer 503 (or fall back, below).
* `OutboxClickRecorder` inserts the encoded event into the outbox; the relay
  publishes it. Concurrent clicks are group-committed (one transaction per
  flush) so the WAL is synced once per batch, not once per click. Survives a
  Kafka outage, but every click is written to Postgres, read back and deleted.
* `FallbackClickRecorder` (the default) uses Kafka and falls back to the outbox
  while Kafka fails.

Both use the click id as the CloudEvents id, so a consumer deduplicating by
event id sees one click even if it was written twice. Which one runs is the
`click_durability` setting; README ("Recording clicks") has the measurements.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Protocol

from chorus_events.contracts.clicks import ClickRecorded

from chorus_sharing.clicks.kafka import CachedPartitioner, KafkaClickRecorder, click_publisher
from chorus_sharing.clicks.outbox import OutboxClickRecorder
from chorus_sharing.errors import ClickNotRecorded
from chorus_sharing.metrics import CLICKS_RECORDED

__all__ = [
    "CachedPartitioner",
    "ClickRecorder",
    "FallbackClickRecorder",
    "KafkaClickRecorder",
    "OutboxClickRecorder",
    "click_publisher",
]
log = logging.getLogger(__name__)
_FALLBACK = CLICKS_RECORDED.labels("kafka", "fell_back_to_outbox")


class ClickRecorder(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def record(self, click: ClickRecorded) -> None:
        """Return only once `click` is durable; raise `ClickNotRecorded` otherwise."""
        ...


class FallbackClickRecorder:
    """Kafka first; the outbox when Kafka fails, and for `retry_after` seconds after.

    The redirect's availability then depends on Kafka *or* Postgres, not on
    Kafka alone. A Kafka send that timed out may still be delivered later, and
    the outbox copy then arrives too: both carry the click id as event id, and
    consumers deduplicate by it (the contract says so), so the click counts once.
    """

    def __init__(
        self,
        primary: KafkaClickRecorder,
        fallback: OutboxClickRecorder,
        *,
        retry_after: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.primary = primary
        self.fallback = fallback
        self.retry_after = retry_after
        self.clock = clock
        self._kafka_from = 0.0

    async def start(self) -> None:
        await self.primary.start()
        await self.fallback.start()

    async def stop(self) -> None:
        await self.primary.stop()
        await self.fallback.stop()

    async def record(self, click: ClickRecorded) -> None:
        if self.clock() >= self._kafka_from:
            try:
                await self.primary.record(click)
                return
            except ClickNotRecorded:
                if self.clock() >= self._kafka_from:
                    log.warning("clicks go to the outbox for %.0fs: Kafka failed", self.retry_after)
                self._kafka_from = self.clock() + self.retry_after
        _FALLBACK.inc()
        await self.fallback.record(click)
