"""Leaderboard periods and their buckets in a tenant's time zone.

A bucket is the calendar unit an event falls in, computed from the event's own
time in the tenant's zone: the local day, the week starting on Monday, the
month. Each bucket has its own Redis key, so a new day simply starts writing a
new key: periods roll over without any batch job, and an event that arrives late
still lands in the bucket of the day it happened.

Buckets are integers so they compare cheaply: the proleptic ordinal of the local
date (day), of the week's Monday (week), and `year * 12 + month - 1` (month).
Day boundaries follow the zone's rules, so a DST day has 23 or 25 hours.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class Period(StrEnum):
    ALL = "all"
    MONTH = "month"
    WEEK = "week"
    DAY = "day"


BUCKETED: tuple[Period, ...] = (Period.MONTH, Period.WEEK, Period.DAY)
"""Periods with buckets, in the order of `Buckets` fields and standings arrays."""
PERIODS: tuple[Period, ...] = (Period.ALL, *BUCKETED)


class UnknownTimeZone(ValueError):
    pass


@lru_cache(maxsize=512)
def zone(name: str) -> ZoneInfo:
    """The IANA zone `name` (cached); UnknownTimeZone if there is none."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise UnknownTimeZone(f"unknown time zone {name!r}") from exc


@dataclass(frozen=True)
class Buckets:
    month: int
    week: int
    day: int

    def of(self, period: Period) -> int:
        return {Period.MONTH: self.month, Period.WEEK: self.week, Period.DAY: self.day}[period]

    def as_tuple(self) -> tuple[int, int, int]:
        return (self.month, self.week, self.day)


def local_date(when: datetime, tz: ZoneInfo) -> date:
    return when.astimezone(tz).date()


def buckets_of(when: datetime, tz: ZoneInfo) -> Buckets:
    day = local_date(when, tz)
    monday = day - timedelta(days=day.weekday())
    return Buckets(
        month=day.year * 12 + day.month - 1, week=monday.toordinal(), day=day.toordinal()
    )


def bucket_tuple(when: datetime, tz: ZoneInfo) -> tuple[int, int, int]:
    """`buckets_of(when, tz).as_tuple()` without the intermediate object (hot path)."""
    day = when.astimezone(tz).date()
    ordinal = day.toordinal()
    return (day.year * 12 + day.month - 1, ordinal - day.weekday(), ordinal)


def bucket_for_date(period: Period, day: date) -> int:
    """The bucket of `period` containing the local date `day`."""
    if period is Period.DAY:
        return day.toordinal()
    if period is Period.WEEK:
        return (day - timedelta(days=day.weekday())).toordinal()
    if period is Period.MONTH:
        return day.year * 12 + day.month - 1
    raise ValueError("the all-time period has no buckets")


def first_day(period: Period, bucket: int) -> date:
    if period is Period.MONTH:
        return date(bucket // 12, bucket % 12 + 1, 1)
    return date.fromordinal(bucket)


def next_first_day(period: Period, bucket: int) -> date:
    start = first_day(period, bucket)
    if period is Period.DAY:
        return start + timedelta(days=1)
    if period is Period.WEEK:
        return start + timedelta(days=7)
    return date(start.year + start.month // 12, start.month % 12 + 1, 1)


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    """The first instant of the local `day` in `tz`, as UTC.

    `fold=0` is right in both DST cases: an ambiguous midnight (clocks fall back
    to 00:00) starts at its first occurrence, and a skipped midnight (clocks jump
    from 00:00 to 01:00, e.g. America/Santiago) resolves with the offset before
    the jump, which is exactly the instant of the jump: the day's first instant.
    """
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def bucket_start(period: Period, bucket: int, tz: ZoneInfo) -> datetime:
    return local_midnight(first_day(period, bucket), tz)


def bucket_end(period: Period, bucket: int, tz: ZoneInfo) -> datetime:
    return local_midnight(next_first_day(period, bucket), tz)


def bucket_label(period: Period, bucket: int | None) -> str:
    """Human-readable bucket id used in Redis keys and APIs: all, m2025-03, w2025-03-03, d..."""
    if period is Period.ALL or bucket is None:
        return "all"
    start = first_day(period, bucket)
    if period is Period.MONTH:
        return f"m{start.year:04d}-{start.month:02d}"
    return f"{period.value[0]}{start.isoformat()}"
