"""Retention of the tracking table (`processed_events`).

Every consumed event leaves a row, so without a purge the table — and the primary
key every batch writes into — grows for ever. A row may only go once its event
can no longer be redelivered, or a redelivery would be applied a second time.
Redeliveries come from Kafka (a crash before the offset commit, a rebalance, a
group reset to the earliest offset) or from a relay retry (the same event again
within seconds), so the bound is how long Kafka keeps a record: a topic deletes a
record no sooner than `retention.ms` after it was written, and only with its whole
segment, which can stay up to `segment.ms` longer. A row is therefore kept at least
`retention.ms + segment.ms` (plus a margin) of its subscribed topics, whatever the
configured retention says; a topic that never deletes (`retention.ms=-1`, or
compaction) turns the purge off for the group.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Final

import asyncpg
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from chorus_platform.failures import report_loop_failure
from chorus_platform.metrics import TRACKING_PURGED

log = logging.getLogger(__name__)

SAFETY_MARGIN: Final = timedelta(days=1)
"""Beyond Kafka's own bound: clock skew between broker and database, late deletes."""
_KAFKA_DEFAULTS: Final = {"retention.ms": "604800000", "segment.ms": "604800000"}
_WANTED: Final = ("retention.ms", "segment.ms", "cleanup.policy")


@dataclass(frozen=True)
class TrackingRetention:
    """How long a consumer group keeps the ids of the events it applied."""

    keep: timedelta = timedelta(days=15)
    """At least this long; longer when a subscribed topic keeps records longer."""
    interval: float = 600.0
    """Seconds between purges (the first runs one interval after start)."""
    chunk: int = 10_000
    """Rows per DELETE: short transactions that never hold the consumers up."""


def effective_keep(
    configured: timedelta, topics: Mapping[str, Mapping[str, str]]
) -> timedelta | None:
    """The retention that keeps every redeliverable event's row; None: never purge."""
    keep = configured
    for config in topics.values():
        if "compact" in config.get("cleanup.policy", "delete"):
            return None
        retention_ms = int(config.get("retention.ms", _KAFKA_DEFAULTS["retention.ms"]))
        segment_ms = int(config.get("segment.ms", _KAFKA_DEFAULTS["segment.ms"]))
        if retention_ms < 0:
            return None
        keep = max(keep, timedelta(milliseconds=retention_ms + segment_ms) + SAFETY_MARGIN)
    return keep


async def topic_configs(bootstrap: str, topics: Iterable[str]) -> dict[str, dict[str, str]]:
    """`retention.ms`, `segment.ms` and `cleanup.policy` of each topic, as the broker has them."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10_000)
    await admin.start()
    try:
        responses = await admin.describe_configs(
            [
                ConfigResource(ConfigResourceType.TOPIC, topic, configs=dict.fromkeys(_WANTED))
                for topic in sorted(set(topics))
            ]
        )
    finally:
        await admin.close()
    found: dict[str, dict[str, str]] = {}
    for response in responses:
        for error_code, error_message, _type, name, entries in response.resources:
            if error_code:
                raise RuntimeError(f"describe_configs {name}: {error_code} {error_message}")
            found[name] = {entry[0]: entry[1] for entry in entries if entry[1] is not None}
    return found


_PURGE_CHUNK: Final = """
DELETE FROM processed_events
WHERE ctid = ANY(ARRAY(
    SELECT ctid FROM processed_events
    WHERE consumer_group = $1 AND processed_at < now() - $2::interval
    LIMIT $3
))
"""


async def purge_tracking(
    pool: asyncpg.Pool, group: str, older_than: timedelta, chunk: int = 10_000
) -> int:
    """Delete `group`'s tracking rows older than `older_than`, chunk by chunk; return the count."""
    purged = 0
    while True:
        async with pool.acquire() as conn:
            status = await conn.execute(_PURGE_CHUNK, group, older_than, chunk)
        deleted = int(status.split()[-1])
        purged += deleted
        if deleted < chunk:
            return purged


class TrackingPurger:
    """The periodic purge a `ConsumerRunner` runs for its group."""

    def __init__(
        self,
        *,
        pool: asyncpg.Pool,
        bootstrap: str,
        group: str,
        topics: Iterable[str],
        service: str,
        retention: TrackingRetention,
    ) -> None:
        self.pool = pool
        self.bootstrap = bootstrap
        self.group = group
        self.topics = sorted(set(topics))
        self.retention = retention
        self._purged = TRACKING_PURGED.labels(service, group)

    async def purge_once(self) -> int:
        """One pass: read the topics' retention, then delete what can no longer come back."""
        keep = effective_keep(self.retention.keep, await topic_configs(self.bootstrap, self.topics))
        if keep is None:
            log.info("tracking of %s kept: a subscribed topic never deletes", self.group)
            return 0
        purged = await purge_tracking(self.pool, self.group, keep, self.retention.chunk)
        self._purged.inc(purged)
        if purged:
            log.info("purged %d tracking rows of %s older than %s", purged, self.group, keep)
        return purged

    async def run(self, stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), self.retention.interval)
                return
            try:
                await self.purge_once()
            except Exception as exc:
                # Nothing is lost by skipping a pass: the rows wait for the next one.
                report_loop_failure(
                    log, f"tracking purge of {self.group}", exc, self.retention.interval
                )
