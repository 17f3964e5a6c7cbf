"""Folding entries into standings rows: periods roll over, late entries are flagged."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from chorus_rewards.boards import Metric
from chorus_rewards.periods import PERIODS, Period, buckets_of, zone
from chorus_rewards.standings import SLOTS_OF, Standing, apply_entry, slot, to_ms

UTC_ZONE = zone("UTC")
MON = datetime(2026, 3, 2, 9, tzinfo=UTC)


def _apply(
    row: Standing, when: datetime, points: int, reach: int = 0
) -> tuple[list[int], list[tuple[int, int]]]:
    at = to_ms(when)
    changed, late = apply_entry(row, buckets_of(when, UTC_ZONE).as_tuple(), (points, 0, reach), at)
    return list(SLOTS_OF[changed]), late


def test_a_new_day_starts_from_zero_while_week_and_all_time_accumulate() -> None:
    row = Standing("t", "a", "tenant")
    _apply(row, MON, 5)
    changed, late = _apply(row, MON + timedelta(days=1), 3)
    assert not late
    assert row.values[slot(Period.DAY, Metric.POINTS)] == 3
    assert row.values[slot(Period.WEEK, Metric.POINTS)] == 8
    assert row.values[slot(Period.ALL, Metric.POINTS)] == 8
    assert slot(Period.DAY, Metric.POINTS) in changed
    assert row.buckets[2] == buckets_of(MON + timedelta(days=1), UTC_ZONE).day
    assert slot(Period.DAY, Metric.REACH) not in changed, "reach did not change"


def test_an_entry_for_an_older_bucket_is_late_and_leaves_the_row_alone() -> None:
    row = Standing("t", "a", "tenant")
    _apply(row, MON + timedelta(days=8), 4)  # next week
    changed, late = _apply(row, MON, 2)
    assert set(late) == {
        (PERIODS.index(Period.DAY), buckets_of(MON, UTC_ZONE).day),
        (PERIODS.index(Period.WEEK), buckets_of(MON, UTC_ZONE).week),
    }
    assert row.values[slot(Period.DAY, Metric.POINTS)] == 4
    assert row.values[slot(Period.ALL, Metric.POINTS)] == 6, "all-time never goes late"
    assert set(changed) == {slot(Period.ALL, Metric.POINTS), slot(Period.MONTH, Metric.POINTS)}


def test_the_row_does_not_depend_on_the_order_of_entries() -> None:
    rng = random.Random(3)
    entries = [
        (MON + timedelta(hours=rng.randint(0, 24 * 40)), rng.randint(-5, 20)) for _ in range(60)
    ]
    rows = []
    for _ in range(5):
        rng.shuffle(entries)
        row = Standing("t", "a", "tenant")
        for when, points in entries:
            _apply(row, when, points, reach=1)
        rows.append(row)
    assert all(r == rows[0] for r in rows)


def test_reach_time_is_the_latest_entry_that_changed_the_value() -> None:
    row = Standing("t", "a", "tenant")
    _apply(row, MON + timedelta(hours=2), 5)
    _apply(row, MON + timedelta(hours=1), 5)
    _apply(row, MON + timedelta(hours=3), 0, reach=9)
    assert row.reached[slot(Period.DAY, Metric.POINTS)] == to_ms(MON + timedelta(hours=2))
    assert row.reached[slot(Period.DAY, Metric.REACH)] == to_ms(MON + timedelta(hours=3))
