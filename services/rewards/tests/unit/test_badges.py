"""Share counts and weekly streaks that earn badges."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from chorus_rewards.badges import count_share


@dataclass
class Stats:
    shares: int = 0
    streak_week: int | None = None
    streak_weeks: int = 0


MONDAY = date(2026, 3, 2).toordinal()


def test_first_share_and_share_count_badges_come_at_their_thresholds() -> None:
    stats = Stats()
    earned = [count_share(stats, MONDAY) for _ in range(50)]
    assert earned[0] == ["first-share"]
    assert earned[9] == ["shares-10"] and earned[49] == ["shares-50"]
    assert sum(len(e) for e in earned) == 3


def test_consecutive_weeks_build_a_streak_and_a_gap_resets_it() -> None:
    stats = Stats(shares=20)
    weeks = [MONDAY + 7 * w for w in (0, 1, 1, 2, 3)]
    earned = [b for w in weeks for b in count_share(stats, w)]
    assert earned == ["streak-4-weeks"] and stats.streak_weeks == 4
    count_share(stats, MONDAY + 7 * 5)  # skipped week 4
    assert stats.streak_weeks == 1


def test_a_late_share_for_an_older_week_counts_but_does_not_touch_the_streak() -> None:
    stats = Stats()
    count_share(stats, MONDAY + 14)
    count_share(stats, MONDAY)
    assert (stats.shares, stats.streak_week, stats.streak_weeks) == (2, MONDAY + 14, 1)
    assert date.fromordinal(MONDAY) + timedelta(days=14) == date(2026, 3, 16)
