"""Rollup pieces: signed pieces add up to exactly the range, at any zone's midnights."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from chorus_metrics.kpis.rollup import Grain, Period, Piece, engagement_pieces, pieces, ranked

START = datetime(2025, 11, 1, tzinfo=UTC)


def _period_start(t: datetime, grain: Grain) -> datetime:
    hour = t.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    if grain is Grain.MINUTES15:
        return hour.replace(minute=t.astimezone(UTC).minute // 15 * 15)
    if grain is Grain.HOUR:
        return hour
    day = hour.replace(hour=0)
    return day.replace(day=1) if grain is Grain.MONTH else day


def _count(points: list[datetime], piece: Piece) -> int:
    """What the SQL does: raw shares by posted_at, rollup rows by their period start."""
    if piece.grain is Grain.RAW:
        return sum(piece.start <= t < piece.end for t in points)
    return sum(piece.start <= _period_start(t, piece.grain) < piece.end for t in points)


@pytest.mark.parametrize("zone", ["UTC", "America/New_York", "Asia/Kolkata", "Pacific/Chatham"])
def test_pieces_count_exactly_the_shares_of_the_range(zone: str) -> None:
    rnd = random.Random(zone)
    points = [START + timedelta(seconds=rnd.randrange(500 * 86400)) for _ in range(1000)]
    tz = ZoneInfo(zone)
    for _ in range(60):
        first = date(2025, 11, 1) + timedelta(days=rnd.randrange(480))
        last = first + timedelta(days=rnd.choice([0, 1, 6, 19, 27, 30, 45, 90, 200, 364]))
        start = datetime.combine(first, time.min, tz)
        end = datetime.combine(last + timedelta(days=1), time.min, tz)
        parts = pieces(start, end)
        expected = sum(start <= t < end for t in points)
        assert sum(p.sign * _count(points, p) for p in parts) == expected, (start, end, parts)
        for p in parts:
            if p.grain is not Grain.RAW:
                assert _period_start(p.start, p.grain) == p.start
                assert _period_start(p.end, p.grain) == p.end


def test_a_month_in_new_york_is_one_month_row_and_two_raw_slivers() -> None:
    ny = ZoneInfo("America/New_York")
    parts = pieces(datetime(2026, 1, 1, tzinfo=ny), datetime(2026, 2, 1, tzinfo=ny))
    assert sorted(parts, key=lambda p: (p.grain, p.start)) == [
        Piece(Grain.MONTH, datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC), 1),
        Piece(Grain.RAW, datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=ny), -1),
        Piece(Grain.RAW, datetime(2026, 2, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=ny), 1),
    ]


def test_short_and_empty_ranges() -> None:
    t = datetime(2026, 3, 3, 10, tzinfo=UTC)
    assert pieces(t, t) == []
    assert pieces(t, t + timedelta(hours=30)) == [Piece(Grain.RAW, t, t + timedelta(hours=30), 1)]


@pytest.mark.parametrize(
    "zone", ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Pacific/Chatham"]
)
def test_engagement_pieces_count_exactly_the_engagement_of_the_range(zone: str) -> None:
    """Engagement rollups (0013): quarter hours, hours, days and months by the
    engagement's own time. Local midnights of every zone here (Kolkata +5:30, Chatham
    +12:45) fall on quarter hours: no raw rows at all."""
    rnd = random.Random(zone)
    points = [START + timedelta(seconds=rnd.randrange(500 * 86400)) for _ in range(1500)]
    tz = ZoneInfo(zone)
    for _ in range(50):
        first = date(2025, 11, 1) + timedelta(days=rnd.randrange(480))
        last = first + timedelta(days=rnd.choice([0, 1, 2, 6, 19, 27, 30, 45, 90, 200, 364]))
        start = datetime.combine(first, time.min, tz)
        end = datetime.combine(last + timedelta(days=1), time.min, tz)
        parts = engagement_pieces(start, end)
        expected = sum(start <= t < end for t in points)
        assert sum(p.sign * _count(points, p) for p in parts) == expected, (start, end, parts)
        for p in parts:
            assert p.grain is not Grain.RAW
            assert _period_start(p.start, p.grain) == p.start
            assert _period_start(p.end, p.grain) == p.end
        # A local day reads at most one day row and the edges around it; a month one
        # month row and its edges: never a whole period of a finer grain.
        finer = [p for p in parts if p.grain in (Grain.HOUR, Grain.MINUTES15)]
        assert len(finer) <= 6
        assert sum((p.end - p.start for p in finer), timedelta(0)) <= timedelta(hours=24)


def test_a_berlin_day_is_one_day_row_and_two_hour_slivers() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    parts = engagement_pieces(
        datetime(2026, 3, 2, tzinfo=berlin), datetime(2026, 3, 3, tzinfo=berlin)
    )
    utc = lambda d, h: datetime(2026, 3, d, h, tzinfo=UTC)  # noqa: E731
    assert sorted(parts, key=lambda p: (p.grain, p.start)) == [
        Piece(Grain.DAY, utc(2, 0), utc(3, 0), 1),
        Piece(Grain.HOUR, utc(1, 23), utc(2, 0), 1),
        Piece(Grain.HOUR, utc(2, 23), utc(3, 0), -1),
    ]


def test_a_kolkata_day_takes_its_half_hours_from_quarter_hours() -> None:
    kolkata = ZoneInfo("Asia/Kolkata")  # +5:30: the day is [18:30Z, 18:30Z next day)
    parts = engagement_pieces(
        datetime(2026, 3, 2, tzinfo=kolkata), datetime(2026, 3, 3, tzinfo=kolkata)
    )
    utc = lambda d, h, m=0: datetime(2026, 3, d, h, m, tzinfo=UTC)  # noqa: E731
    assert sorted(parts, key=lambda p: (p.grain, p.start)) == [
        Piece(Grain.DAY, utc(2, 0), utc(3, 0), 1),
        Piece(Grain.HOUR, utc(1, 19), utc(2, 0), 1),
        Piece(Grain.HOUR, utc(2, 19), utc(3, 0), -1),
        # the half hours [18:30, 19:00) from quarter hours: added before, taken back after
        Piece(Grain.MINUTES15, utc(1, 18, 30), utc(1, 19), 1),
        Piece(Grain.MINUTES15, utc(2, 18, 30), utc(2, 19), -1),
    ]


def test_short_engagement_ranges_read_raw_rows() -> None:
    t = datetime(2026, 3, 3, 10, 31, tzinfo=UTC)
    assert engagement_pieces(t, t) == []
    assert engagement_pieces(t, t + timedelta(minutes=20)) == [
        Piece(Grain.RAW, t, t + timedelta(minutes=20), 1)
    ]
    # Off a quarter hour: raw slivers of at most 7.5 minutes at each edge.
    parts = engagement_pieces(t, t + timedelta(minutes=90))
    assert [p.grain for p in parts if p.grain is Grain.RAW] == [Grain.RAW, Grain.RAW]
    assert all(p.end - p.start <= timedelta(minutes=7.5) for p in parts if p.grain is Grain.RAW)


_RUN_DAYS = {Period.DAYS1: 1, Period.DAYS2: 2, Period.DAYS3: 3}


def _in_period(t: datetime, grain: Period, start: datetime) -> bool:
    """Whether a share posted at t counts in the ranked period (grain, start)."""
    day = t.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    if grain is Period.DAY:
        return day == start
    if grain in _RUN_DAYS:
        return start <= day < start + timedelta(days=_RUN_DAYS[grain])
    if grain is Period.WEEK:
        return day - timedelta(days=day.weekday()) == start
    return (day.replace(day=1) if grain is Period.MONTH else day.replace(month=1, day=1)) == start


def _is_period_start(start: datetime, grain: Period) -> bool:
    if start != start.replace(hour=0, minute=0, second=0, microsecond=0):
        return False
    if grain is Period.DAY:
        return True
    if grain in _RUN_DAYS:  # the first or last 1-3 days of a week
        return start.weekday() == 0 or start.weekday() + _RUN_DAYS[grain] == 7
    if grain is Period.WEEK:
        return start.weekday() == 0
    return start.day == 1 and (grain is Period.MONTH or start.month == 1)


@pytest.mark.parametrize("zone", ["UTC", "America/New_York", "Asia/Kolkata", "Pacific/Chatham"])
def test_a_ranked_period_and_its_slivers_count_exactly_the_shares_of_the_range(zone: str) -> None:
    rnd = random.Random(zone)
    points = [START + timedelta(seconds=rnd.randrange(800 * 86400)) for _ in range(1500)]
    tz = ZoneInfo(zone)
    found = set()
    for _ in range(600):
        first = date(2025, 11, 1) + timedelta(days=rnd.randrange(400))
        # Often on a week's, month's or year's first day, or a week's last days: ranges
        # a period fits.
        monday = first - timedelta(days=first.weekday())
        first = rnd.choice([first, monday, monday + timedelta(days=rnd.choice([4, 5, 6])),
                            first.replace(day=1), first.replace(month=1, day=1)])  # fmt: skip
        last = first + timedelta(days=rnd.choice([0, 1, 2, 3, 4, 6, 9, 20, 27, 30, 33, 200, 364]))
        start = datetime.combine(first, time.min, tz)
        end = datetime.combine(last + timedelta(days=1), time.min, tz)
        r = ranked(start, end)
        if r is None:
            continue
        assert r.grain is not None
        found.add(r.grain)
        assert _is_period_start(r.start, r.grain), r
        sliver_days = sum((p.end - p.start).days for p in r.slivers if p.grain is Grain.DAY)
        assert sliver_days <= {Period.WEEK: 3, Period.MONTH: 4, Period.YEAR: 54}.get(r.grain, 0)
        main = sum(_in_period(t, r.grain, r.start) for t in points)
        slivers = sum(p.sign * _count(points, p) for p in r.slivers)
        assert main + slivers == sum(start <= t < end for t in points), (start, end, r)
    # A week's first or last day is read as its UTC day; 'days1' is only taken away from
    # a week (a 6-day partial week). Days more than 4 h off UTC midnights are not ranked.
    far = {"Asia/Kolkata", "Pacific/Chatham"}
    assert found == set(Period) - {Period.DAYS1} - ({Period.DAY} if zone in far else set())


def test_a_berlin_week_is_one_ranked_week_and_two_raw_slivers() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    r = ranked(datetime(2026, 3, 2, tzinfo=berlin), datetime(2026, 3, 9, tzinfo=berlin))
    assert r is not None
    assert (r.grain, r.start) == (Period.WEEK, datetime(2026, 3, 2, tzinfo=UTC))
    assert sorted((p.grain, p.sign) for p in r.slivers) == [(Grain.RAW, -1), (Grain.RAW, 1)]


@pytest.mark.parametrize(
    ("zone", "slivers"),
    [
        ("UTC", []),
        # Berlin's 8 Jul (UTC+2): [7 Jul 22:00Z, 8 Jul 22:00Z), nearest UTC midnights 8 Jul
        # and 9 Jul: the UTC day of 8 Jul, plus 2 h before it, less 2 h at its end.
        ("Europe/Berlin", ["+1raw", "-1raw"]),
        # Dubai (UTC+4): 4 h at each edge, the most a ranked day takes.
        ("Asia/Dubai", ["+1raw", "-1raw"]),
        # Kolkata (UTC+5:30): 5.5 h at each edge, too many; summed from day rollups.
        ("Asia/Kolkata", None),
        # Auckland (UTC+12 in July): [7 Jul 12:00Z, 8 Jul 12:00Z), 12 h at each edge.
        ("Pacific/Auckland", None),
    ],
)
def test_a_local_day_near_utc_is_its_nearest_utc_day_and_raw_slivers(
    zone: str, slivers: list[str] | None
) -> None:
    tz = ZoneInfo(zone)
    r = ranked(datetime(2026, 7, 8, tzinfo=tz), datetime(2026, 7, 9, tzinfo=tz))
    if slivers is None:
        assert r is None
        return
    assert r is not None
    assert (r.grain, r.start) == (Period.DAY, datetime(2026, 7, 8, tzinfo=UTC))
    assert sorted(f"{p.sign:+d}{p.grain.value}" for p in r.slivers) == slivers


def test_partial_weeks_read_the_runs_at_a_week_s_edges() -> None:
    """1-3 days at a week's start or end are that run; 4-6 days the week less the run
    of the days left out, ± hours."""
    berlin = ZoneInfo("Europe/Berlin")

    def read(first: date, days: int) -> tuple[Period | None, datetime | None, list[str]]:
        start = datetime.combine(first, time.min, berlin)
        r = ranked(start, start + timedelta(days=days))
        if r is None:
            return (None, None, [])
        return (r.grain, r.start, sorted(f"{p.sign:+d}{p.grain.value}" for p in r.slivers))

    utc = lambda *a: datetime(*a, tzinfo=UTC)  # noqa: E731
    assert read(date(2026, 5, 1), 3) == (Period.DAYS3, utc(2026, 5, 1), ["+1raw", "-1raw"])
    assert read(date(2026, 3, 29), 1)[:2] == (Period.DAY, utc(2026, 3, 29))  # Sunday, DST
    assert read(date(2026, 7, 27), 2)[:2] == (Period.DAYS2, utc(2026, 7, 27))  # Mon-Tue
    # Mon-Thu: the week less its last 3 days; Thu-Sun: less its first 3.
    assert read(date(2026, 8, 24), 4) == (
        Period.WEEK, utc(2026, 8, 24), ["+1raw", "-1days3", "-1raw"]
    )  # fmt: skip
    assert read(date(2026, 10, 1), 4) == (
        Period.WEEK, utc(2026, 9, 28), ["+1raw", "-1days3", "-1raw"]
    )  # fmt: skip
    assert read(date(2026, 8, 24), 5)[2] == ["+1raw", "-1days2", "-1raw"]  # Mon-Fri
    assert read(date(2026, 5, 5), 3) == (None, None, [])  # Tue-Thu: no run
    assert read(date(2026, 8, 24), 6)[2] == ["+1raw", "-1days1", "-1raw"]  # Mon-Sat
    # Four days as the 3-day run and a day (advocates by shares).
    monday = datetime.combine(date(2026, 8, 24), time.min, berlin)
    r = ranked(monday, monday + timedelta(days=4), four_days_as_run=True)
    assert r is not None and (r.grain, r.start) == (Period.DAYS3, utc(2026, 8, 24))
    assert sorted(f"{p.sign:+d}{p.grain.value}" for p in r.slivers) == ["+1raw", "+1raw"]
