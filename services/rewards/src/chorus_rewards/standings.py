"""Standings: the committed state the Redis boards are written from.

One row per (tenant, advocate, scope) holds the all-time values and the values
of the latest month, week and day bucket the advocate has activity in, for
every metric, each with its reach time (see `scoring`). The consumer updates the
rows in the same transaction as the ledger, then writes to Redis the absolute
values of the boards that changed (ZADD score, never increments), so writing
them twice, or late, converges on the committed state.

A row only holds the *latest* bucket of each period. An entry for an older
bucket (an event that arrives after a later one of the same advocate) is
"late": its board value is aggregated from the ledger instead (rare; the
consumer does it in the same transaction, after inserting the entries).

The row is a pure function of the entries: the bucket of each period is the
highest bucket among them, and its values sum the entries in that bucket, in
any order. The rebuild therefore reproduces the rows by folding the ledger.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from chorus_rewards.boards import METRICS, Metric
from chorus_rewards.periods import BUCKETED, PERIODS, Buckets, Period, bucket_end, bucket_start

SLOTS = len(PERIODS) * len(METRICS)

RETENTION_DAYS = {Period.DAY: 62, Period.WEEK: 7 * 54, Period.MONTH: 31 * 25}
"""How long a period board is kept after its bucket ends (Redis EXPIREAT); the rebuild
and the check skip boards past it, so they agree with what the live path keeps."""


def slot(period: Period, metric: Metric) -> int:
    return PERIODS.index(period) * len(METRICS) + METRICS.index(metric)


@dataclass
class Standing:
    tenant_id: str
    advocate_id: str
    scope: str
    buckets: list[int | None] = field(default_factory=lambda: [None] * len(BUCKETED))
    values: list[int] = field(default_factory=lambda: [0] * SLOTS)
    reached: list[int] = field(default_factory=lambda: [0] * SLOTS)
    """Epoch ms of the reach time per slot; 0 while no entry changed that slot's value."""

    def bucket(self, period: Period) -> int | None:
        return None if period is Period.ALL else self.buckets[BUCKETED.index(period)]


BoardCell = tuple[Period, int | None, Metric]
"""(period, bucket, metric) of one of the advocate's boards within the row's scope."""


def apply_entry(
    row: Standing, buckets: Buckets, deltas: tuple[int, int, int], at_ms: int
) -> tuple[set[BoardCell], set[tuple[Period, int]]]:
    """Fold one entry into `row`; return the boards it changed and the late (period, bucket)s."""
    changed: set[BoardCell] = set()
    late: set[tuple[Period, int]] = set()
    for period in PERIODS:
        bucket: int | None = None
        if period is not Period.ALL:
            i = BUCKETED.index(period)
            bucket = buckets.of(period)
            current = row.buckets[i]
            if current is not None and bucket < current:
                if any(deltas):
                    late.add((period, bucket))
                continue
            if current is None or bucket > current:
                row.buckets[i] = bucket
                for metric in METRICS:
                    row.values[slot(period, metric)] = 0
                    row.reached[slot(period, metric)] = 0
        for metric, delta in zip(METRICS, deltas, strict=True):
            if delta:
                s = slot(period, metric)
                row.values[s] += delta
                row.reached[s] = max(row.reached[s], at_ms)
                changed.add((period, bucket, metric))
    return changed, late


@lru_cache(maxsize=4096)
def bucket_start_ms(period: Period, bucket: int | None, tz: ZoneInfo) -> int | None:
    if period is Period.ALL or bucket is None:
        return None
    return int(bucket_start(period, bucket, tz).timestamp() * 1000)


@lru_cache(maxsize=4096)
def expire_at(period: Period, bucket: int | None, tz: ZoneInfo) -> int | None:
    """Unix time at which the board's key expires; None for all-time boards."""
    if period is Period.ALL or bucket is None:
        return None
    return int(bucket_end(period, bucket, tz).timestamp()) + RETENTION_DAYS[period] * 86_400


def to_ms(when: datetime) -> int:
    return int(when.timestamp() * 1000)
