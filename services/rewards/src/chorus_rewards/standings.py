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
from chorus_rewards.periods import BUCKETED, PERIODS, Period, bucket_end, bucket_start

SLOTS = len(PERIODS) * len(METRICS)
"""Slot of (period, metric) in a row's arrays: period index * 3 + metric index."""

RETENTION_DAYS = {Period.DAY: 62, Period.WEEK: 7 * 54, Period.MONTH: 31 * 25}
"""How long a period board is kept after its bucket ends (Redis EXPIREAT); the rebuild
and the check skip boards past it, so they agree with what the live path keeps."""

_METRICS = len(METRICS)
_BUCKETED = len(BUCKETED)


def slot(period: Period, metric: Metric) -> int:
    return PERIODS.index(period) * _METRICS + METRICS.index(metric)


@dataclass
class Standing:
    tenant_id: str
    advocate_id: str
    scope: str
    buckets: list[int | None] = field(default_factory=lambda: [None] * _BUCKETED)
    """Latest month, week and day bucket (see `periods`), None before any entry."""
    values: list[int] = field(default_factory=lambda: [0] * SLOTS)
    reached: list[int] = field(default_factory=lambda: [0] * SLOTS)
    """Epoch ms of the reach time per slot; 0 while no entry changed that slot's value."""

    def bucket(self, period: Period) -> int | None:
        return None if period is Period.ALL else self.buckets[BUCKETED.index(period)]


SLOTS_OF: tuple[tuple[int, ...], ...] = tuple(
    tuple(s for s in range(SLOTS) if mask >> s & 1) for mask in range(1 << SLOTS)
)
"""The slots of a slot mask (bit s = slot s), ascending: `SLOTS_OF[mask]`."""
PERIOD_MASKS = tuple(((1 << _METRICS) - 1) << (p * _METRICS) for p in range(len(PERIODS)))
"""Mask of the slots of each period index."""
POINTS_MASK = sum(1 << (p * _METRICS) for p in range(len(PERIODS)))
"""Mask of the points slots of every period."""


def apply_entry(
    row: Standing, buckets: tuple[int, int, int], deltas: tuple[int, int, int], at_ms: int
) -> tuple[int, list[tuple[int, int]]]:
    """Fold one entry into `row`.

    Returns the mask of the slots whose value changed (their bucket is the row's current
    one; see `SLOTS_OF`) and the late (period index, bucket) pairs: older than the row's
    bucket, so the row was left alone and the cell must be summed from the ledger. Plain
    integer loops: this runs for every scope of every entry the consumer applies.
    """
    changed = 0
    late: list[tuple[int, int]] = []
    moving = [m for m in range(_METRICS) if deltas[m]]
    values, reached, current = row.values, row.reached, row.buckets
    for p in range(len(PERIODS)):
        if p:
            bucket = buckets[p - 1]
            held = current[p - 1]
            if held is not None and bucket < held:
                if moving:
                    late.append((p, bucket))
                continue
            if held is None or bucket > held:
                current[p - 1] = bucket
                base = p * _METRICS
                values[base : base + _METRICS] = [0] * _METRICS
                reached[base : base + _METRICS] = [0] * _METRICS
        for m in moving:
            s = p * _METRICS + m
            values[s] += deltas[m]
            if at_ms > reached[s]:
                reached[s] = at_ms
            changed |= 1 << s
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
