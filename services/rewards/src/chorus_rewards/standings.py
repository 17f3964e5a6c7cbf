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


@dataclass(slots=True)
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


assert len(PERIODS) == 4 and _METRICS == 3  # `apply_entry` unrolls them
_TAKING: tuple[tuple[int, ...], ...] = tuple(
    tuple(p * _METRICS for p in range(len(PERIODS)) if taking >> p & 1)
    for taking in range(1 << len(PERIODS))
)
"""Slot of metric 0 of each period in the mask `taking` (bit p = period index p)."""
_TAKING_MASK = tuple(sum(1 << base for base in bases) for bases in _TAKING)
"""Slot mask of metric 0 of each period in the mask `taking`; shifted by m for metric m."""


def apply_entry(
    row: Standing, buckets: tuple[int, int, int], deltas: tuple[int, int, int], at_ms: int
) -> tuple[int, list[tuple[int, int]]]:
    """Fold one entry into `row`.

    Returns the mask of the slots whose value changed (their bucket is the row's current
    one; see `SLOTS_OF`) and the late (period index, bucket) pairs: older than the row's
    bucket, so the row was left alone and the cell must be summed from the ledger. The
    periods and metrics are unrolled: this runs for every scope of every entry the consumer
    applies.
    """
    d0, d1, d2 = deltas
    values, reached, current = row.values, row.reached, row.buckets
    late: list[tuple[int, int]] = []
    taking = 1  # bit p: period index p takes the entry (all-time always does)
    for p in (1, 2, 3):
        bucket, held = buckets[p - 1], current[p - 1]
        if held is None or bucket > held:  # a newer bucket: the period starts again at 0
            current[p - 1] = bucket
            base = p * _METRICS
            values[base] = values[base + 1] = values[base + 2] = 0
            reached[base] = reached[base + 1] = reached[base + 2] = 0
            taking |= 1 << p
        elif bucket == held:
            taking |= 1 << p
        elif d0 or d1 or d2:
            late.append((p, bucket))
    bases = _TAKING[taking]
    mask = _TAKING_MASK[taking]
    changed = 0
    if d0:
        for s in bases:
            values[s] += d0
            if at_ms > reached[s]:
                reached[s] = at_ms
        changed = mask
    if d1:
        for s in bases:
            values[s + 1] += d1
            if at_ms > reached[s + 1]:
                reached[s + 1] = at_ms
        changed |= mask << 1
    if d2:
        for s in bases:
            values[s + 2] += d2
            if at_ms > reached[s + 2]:
                reached[s + 2] = at_ms
        changed |= mask << 2
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
