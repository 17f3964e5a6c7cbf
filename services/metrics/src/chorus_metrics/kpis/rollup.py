"""Split a time range into pieces read from the share rollups, with signed edges.

`share_rollups` holds share totals per UTC day and UTC month. A report's range
starts and ends at local midnights of any zone, so it rarely falls on rollup
boundaries. Sums are additive, so the range is read as: the rollup periods
between the *nearest* boundaries, plus or minus the slivers between each true
edge and its nearest boundary, one level finer (months, then days, then raw
shares). Each edge costs at most half a month of day rows and half a day of raw
shares, wherever the range starts and ends, in whatever zone.

Example, January in New York = [Jan 1 05:00Z, Feb 1 05:00Z):
  + month Jan, - shares [Jan 1 00:00Z, 05:00Z), + shares [Feb 1 00:00Z, 05:00Z).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum


class Grain(StrEnum):
    RAW = "raw"
    """Read from `shares` by `posted_at` (from `clicks` and `reported` by their own time
    for `engagement_pieces`)."""
    MINUTES15 = "minutes15"
    """A UTC quarter hour: `engagement_rollups` only (0013), as `HOUR`."""
    HOUR = "hour"
    DAY = "day"
    MONTH = "month"
    RUN1 = "days1"
    """A week's first or last 1-3 UTC days, taken away from that week: read from
    `contributor_rollups` (0010) for the contributors that need it, not summed."""
    RUN2 = "days2"
    RUN3 = "days3"


_RUNS = {1: Grain.RUN1, 2: Grain.RUN2, 3: Grain.RUN3}


class Period(StrEnum):
    """Grains of `contributor_rollups` (ranked per period)."""

    DAY = "day"
    """A UTC day (0014)."""
    DAYS1 = "days1"
    """The first or last k (1-3) UTC days of a UTC week (0010)."""
    DAYS2 = "days2"
    DAYS3 = "days3"
    WEEK = "week"
    MONTH = "month"
    YEAR = "year"


@dataclass(frozen=True)
class Piece:
    grain: Grain
    start: datetime
    end: datetime
    sign: int


DAY = timedelta(days=1)
# Below these spans a finer level is read whole: not worth two signed edges.
_MIN_DAYS_SPAN = timedelta(days=2)
_MIN_MONTHS_SPAN = timedelta(days=20)


def _floor_day(t: datetime) -> datetime:
    return t.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def _nearest_day(t: datetime) -> datetime:
    floor = _floor_day(t)
    return floor + DAY if t - floor >= DAY / 2 else floor


def _floor_month(t: datetime) -> datetime:
    return _floor_day(t).replace(day=1)


def _next_month(t: datetime) -> datetime:
    return (t.replace(day=28) + timedelta(days=4)).replace(day=1)


def _nearest_month(t: datetime) -> datetime:
    floor = _floor_month(t)
    after = _next_month(floor)
    return after if after - t <= t - floor else floor


def _edges(grain: Grain, start: datetime, near_start: datetime, end: datetime,
           near_end: datetime) -> list[Piece]:  # fmt: skip
    """The signed slivers between true edges and the boundaries they were rounded to."""
    out = []
    if near_start > start:
        out.append(Piece(grain, start, near_start, +1))
    elif near_start < start:
        out.append(Piece(grain, near_start, start, -1))
    if near_end < end:
        out.append(Piece(grain, near_end, end, +1))
    elif near_end > end:
        out.append(Piece(grain, end, near_end, -1))
    return out


def pieces(start: datetime, end: datetime) -> list[Piece]:
    """Signed pieces whose sums add up to the sums over [start, end)."""
    if end <= start:
        return []
    if end - start < _MIN_DAYS_SPAN:
        return [Piece(Grain.RAW, start, end, +1)]
    day_start, day_end = _nearest_day(start), _nearest_day(end)
    return _edges(Grain.RAW, start, day_start, end, day_end) + _days(day_start, day_end)


def _days(day_start: datetime, day_end: datetime) -> list[Piece]:
    """[day_start, day_end) (UTC midnights) as day rows, or months with signed day edges."""
    if day_end - day_start < _MIN_MONTHS_SPAN:
        return [Piece(Grain.DAY, day_start, day_end, +1)]
    month_start, month_end = _nearest_month(day_start), _nearest_month(day_end)
    out = _edges(Grain.DAY, day_start, month_start, day_end, month_end)
    if month_end > month_start:
        out.append(Piece(Grain.MONTH, month_start, month_end, +1))
    return out


HOUR = timedelta(hours=1)
QUARTER_HOUR = timedelta(minutes=15)
_MIN_HOURS_SPAN = timedelta(hours=2)
_MIN_QUARTERS_SPAN = timedelta(minutes=30)


def _nearest_within_hour(t: datetime, unit: timedelta) -> datetime:
    """The UTC multiple of `unit` (an hour or less) nearest to t; ties round up."""
    utc = t.astimezone(UTC)
    floor = utc - (utc - utc.replace(minute=0, second=0, microsecond=0)) % unit
    return floor + unit if utc - floor >= unit / 2 else floor


def engagement_pieces(start: datetime, end: datetime) -> list[Piece]:
    """Signed pieces of `engagement_rollups` (UTC quarter hours, hours, days, months) whose
    sums add up to the sums over [start, end): the same scheme as `pieces`, two levels
    finer, so no report range that starts and ends on a quarter hour (every zone's
    midnights today) reads raw rows. Days are used from one day's span on (a local day
    is one UTC day give or take its zone's offset)."""
    if end <= start:
        return []
    if end - start < _MIN_QUARTERS_SPAN:
        return [Piece(Grain.RAW, start, end, +1)]
    quarter_start, quarter_end = (
        _nearest_within_hour(start, QUARTER_HOUR),
        _nearest_within_hour(end, QUARTER_HOUR),
    )
    out = _edges(Grain.RAW, start, quarter_start, end, quarter_end)
    if quarter_end - quarter_start < _MIN_HOURS_SPAN:
        out.append(Piece(Grain.MINUTES15, quarter_start, quarter_end, +1))
        return out
    hour_start = _nearest_within_hour(quarter_start, HOUR)
    hour_end = _nearest_within_hour(quarter_end, HOUR)
    out += _edges(Grain.MINUTES15, quarter_start, hour_start, quarter_end, hour_end)
    day_start, day_end = _nearest_day(hour_start), _nearest_day(hour_end)
    if hour_end - hour_start < DAY or day_end <= day_start:
        out.append(Piece(Grain.HOUR, hour_start, hour_end, +1))
        return out
    return (
        out
        + _edges(Grain.HOUR, hour_start, day_start, hour_end, day_end)
        + _days(day_start, day_end)
    )


def periods(piece: Piece) -> list[Piece]:
    """A rollup piece as one piece per rollup period (day or month) it covers; a raw
    piece or a run as itself."""
    if piece.grain not in (Grain.DAY, Grain.MONTH):
        return [piece]
    out = []
    start = piece.start
    while start < piece.end:
        end = _next_month(start) if piece.grain is Grain.MONTH else start + DAY
        out.append(Piece(piece.grain, start, end, piece.sign))
        start = end
    return out


def _floor_week(t: datetime) -> datetime:
    day = _floor_day(t)
    return day - timedelta(days=day.weekday())


def _floor_year(t: datetime) -> datetime:
    return _floor_month(t).replace(month=1)


def _next(t: datetime, grain: Period) -> datetime:
    if grain is Period.WEEK:
        return t + timedelta(days=7)
    if grain is Period.MONTH:
        return _next_month(t)
    return t.replace(year=t.year + 1)


_FLOOR = {Period.WEEK: _floor_week, Period.MONTH: _floor_month, Period.YEAR: _floor_year}


def _nearest(t: datetime, grain: Period) -> datetime:
    floor = _FLOOR[grain](t)
    after = _next(floor, grain)
    return after if after - t <= t - floor else floor


@dataclass(frozen=True)
class Ranked:
    """A range read as one ranked rollup period plus signed slivers (rollup pieces);
    without a period (grain None), the slivers are the whole range."""

    grain: Period | None
    start: datetime
    slivers: list[Piece]


def unranked(start: datetime, end: datetime) -> Ranked:
    """[start, end) with no ranked period: all of it as rollup pieces."""
    return Ranked(None, start, pieces(start, end))


# A ranked period is read only when its slivers are small: their contributors' figures
# are summed, and slivers that take shares away make the period's ranking read deeper
# (kpis/repository.py). 15% of a month or year (a 28-day "month" is a month less 3
# days); half a week (a report's partial first or last week of 4-6 days: the week's
# ranking less the 1-3 day run left out, see `_week_slivers`), or a zone's offset at
# both edges of a week (up to 14 h each).
_MAX_SLIVERS = {Period.WEEK: 0.5, Period.MONTH: 0.15, Period.YEAR: 0.15}
# A month by day on the 10 M bench data set, ranked days against summed ones (medians):
# Berlin (slivers of 2 h in all) 76-95 against 204-235 ms, New York (10 h) 213-248
# against 227-266, Kolkata (11 h) 332-402 against 273, Tokyo (18 h) 515-605 against
# 263-310.
_MAX_DAY_SLIVERS = timedelta(hours=8)
_MIN_SLIVERS_ALLOWED = timedelta(hours=28)


def ranked(start: datetime, end: datetime, *, four_days_as_run: bool = False) -> Ranked | None:
    """[start, end) as one UTC day (± up to 8 h), as the first or last 2-3 UTC days of a UTC week
    (`_week_edge`; and 4 with `four_days_as_run`), or as one UTC week, month or year
    whose nearest boundaries to both edges are one period apart, ± the slivers to the
    true edges (small: see `_MAX_SLIVERS`), each cut into rollup pieces (a week's days
    left out at its start or end: that run, see `_week_slivers`). None when no period is
    that close."""
    if end <= start:
        return None
    day_start, day_end = _nearest_day(start), _nearest_day(end)
    if day_end - day_start == DAY:
        # A local day: its UTC day ± raw slivers of the zone's offset at each edge, in
        # zones near UTC. Further off, the slivers take away and add so many
        # contributors that summing the day's rollup rows is cheaper (`_MAX_DAY_SLIVERS`).
        if abs(start - day_start) + abs(end - day_end) > _MAX_DAY_SLIVERS:
            return None
        return Ranked(Period.DAY, day_start, _slivers(start, day_start, end, day_end))
    edge = _week_edge(start, end, four_days=four_days_as_run)
    if edge is not None:
        return edge
    for grain in (Period.WEEK, Period.MONTH, Period.YEAR):
        near_start, near_end = _nearest(start, grain), _nearest(end, grain)
        if near_start >= near_end or _next(near_start, grain) != near_end:
            continue
        allowed = max((near_end - near_start) * _MAX_SLIVERS[grain], _MIN_SLIVERS_ALLOWED)
        if abs(start - near_start) + abs(end - near_end) > allowed:
            break
        if grain is Period.WEEK:
            return Ranked(grain, near_start, _week_slivers(start, near_start, end, near_end))
        return Ranked(grain, near_start, _slivers(start, near_start, end, near_end))
    return None


def _week_slivers(start: datetime, week_start: datetime, end: datetime,
                  week_end: datetime) -> list[Piece]:  # fmt: skip
    """The slivers of a week read for [start, end): days the range leaves out at the
    week's start or end are that run (1-3 days, taken away), ± the hours to the true
    edge; anything else as `_slivers`."""
    out: list[Piece] = []
    day_start, day_end = _nearest_day(start), _nearest_day(end)
    head = _RUNS.get((day_start - week_start) // DAY) if start > week_start else None
    tail = _RUNS.get((week_end - day_end) // DAY) if end < week_end else None
    if head is not None:
        out.append(Piece(head, week_start, day_start, -1))
        week_start = day_start
    if tail is not None:
        out.append(Piece(tail, day_end, week_end, -1))
        week_end = day_end
    return out + _slivers(start, week_start, end, week_end)


# One day is `ranked`'s own case (its UTC day, 0014): a run read as a period is 2-3 days.
_RUN_PERIODS = {2: Period.DAYS2, 3: Period.DAYS3}


def _week_edge(start: datetime, end: datetime, *, four_days: bool) -> Ranked | None:
    """[start, end) as the first or last 2-3 UTC days of a UTC week (a report's partial
    first or last week), ± the hours to its nearest UTC midnights (raw slivers, under
    12 h each). None when it is not such a run.

    4-6 days read the week less the run of the days left out, or with `four_days`, 4
    days read the 3-day run plus a day. Per bucket on the 10 M bench data set (backend
    CPU, 6 weeks): the week less its 3-day run took 5.4-6.3 ms for teams (the run plus a
    day 9.3-10.4), 6.6-27.9 for advocates by engagement (14.2-36.4) and 6.9-26.7 for
    advocates by shares (13.7-15.4): by shares, taking 3 days away lowers many
    contributors by a few shares, so the week's ranking is sometimes read deep; the run
    plus a day is bounded, hence `four_days` for those reports."""
    near_start, near_end = _nearest_day(start), _nearest_day(end)
    days = (near_end - near_start) // DAY
    if not 2 <= days <= (4 if four_days else 3):
        return None
    grain = _RUN_PERIODS[min(days, 3)]
    if near_start.weekday() == 0:
        run_start = near_start  # the week's first days
    elif near_end.weekday() == 0:
        run_start = near_end - min(days, 3) * DAY  # its last days
    else:
        return None
    run_end = run_start + min(days, 3) * DAY
    return Ranked(grain, run_start, _slivers(start, run_start, end, run_end))


def _slivers(start: datetime, near_start: datetime, end: datetime,
             near_end: datetime) -> list[Piece]:  # fmt: skip
    """Signed rollup pieces from [near_start, near_end) to [start, end)."""
    out: list[Piece] = []
    for lo, hi, sign in ((start, near_start, 1), (near_start, start, -1),
                         (near_end, end, 1), (end, near_end, -1)):  # fmt: skip
        if lo < hi:
            out += [Piece(p.grain, p.start, p.end, p.sign * sign) for p in pieces(lo, hi)]
    return out
