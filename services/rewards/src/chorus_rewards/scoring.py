"""Deterministic tie-breaking, encoded in the sorted-set score.

Order on every board: higher value first; on equal values, whoever reached the
value earlier; on equal reach times, the smaller advocate id. Encoding the first
two keys in the score lets Redis do all the ordering (ZRANGE, ZRANK are
O(log n), no tie groups to resolve in reads), and the third comes for free
because Redis orders equal scores by member, byte-wise ascending. Scores are
integers (sent to Redis as such), exact in the double Redis stores.

    score = -(value * 2**TIE_BITS + (2**TIE_BITS - 1 - reached))

`reached` is the reach time in whole units since the bucket start: seconds for
day, week and month buckets (a 31-day month with a DST hour is < 2**22 s), hours
since 2020-01-01 UTC for the all-time board (2**22 h is ~478 years). The score
is negated so that ascending order (ZRANGE, ZRANK) is rank order and ties on the
member sort by ascending advocate id. With |value| < 2**30 the score is an
integer below 2**52, exact in a double, and values may be negative (a fraud
correction can push a period below zero).

The reach time is the latest event time among the entries that changed the
value, so it is a function of the ledger alone: a rebuild reproduces it.
"""

from __future__ import annotations

from datetime import UTC, datetime

TIE_BITS = 22
TIE_MAX = (1 << TIE_BITS) - 1
VALUE_LIMIT = 1 << 30
ALL_TIME_EPOCH = datetime(2020, 1, 1, tzinfo=UTC)
ALL_TIME_EPOCH_MS = int(ALL_TIME_EPOCH.timestamp() * 1000)
_HOUR_MS = 3_600_000


def _clamp(value: int, low: int, high: int) -> int:
    return max(low, min(high, value))


def reach_units(reached_ms: int, bucket_start_ms: int | None) -> int:
    """Whole units since the bucket start (seconds), or since 2020 (hours) for all-time."""
    if bucket_start_ms is None:
        return _clamp((reached_ms - ALL_TIME_EPOCH_MS) // _HOUR_MS, 0, TIE_MAX)
    return _clamp((reached_ms - bucket_start_ms) // 1000, 0, TIE_MAX)


def reach_base(bucket_start_ms: int | None) -> tuple[int, int]:
    """(origin ms, unit ms) of reach times: `units = (reached_ms - origin) // unit`."""
    return (ALL_TIME_EPOCH_MS, _HOUR_MS) if bucket_start_ms is None else (bucket_start_ms, 1000)


def encode_score(value: int, reached_ms: int, bucket_start_ms: int | None) -> int:
    if not -VALUE_LIMIT < value < VALUE_LIMIT:
        value = _clamp(value, -VALUE_LIMIT + 1, VALUE_LIMIT - 1)
    base, unit = reach_base(bucket_start_ms)
    units = (reached_ms - base) // unit
    if not 0 <= units <= TIE_MAX:
        units = _clamp(units, 0, TIE_MAX)
    return -((value << TIE_BITS) + (TIE_MAX - units))


def decode_value(score: float) -> int:
    """The board value (points, engagement or reach) a score encodes."""
    return (-int(score)) >> TIE_BITS
