"""Rollup pieces: signed pieces add up to exactly the range, at any zone's midnights."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from chorus_metrics.kpis.rollup import Grain, Piece, pieces

START = datetime(2025, 11, 1, tzinfo=UTC)


def _period_start(t: datetime, grain: Grain) -> datetime:
    day = t.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
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
