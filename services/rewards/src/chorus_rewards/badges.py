"""Badges: what an advocate earns once (first share, share counts, weekly streaks, top 10).

Only shares to networks that allow rewarding posting count (not Facebook).
A streak is the number of consecutive local weeks (Monday to Sunday) with at
least one share, counted in stream order: a share arriving for an older week
than the last counted one adds to the share count but not to the streak.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import asyncpg

SHARE_COUNT_BADGES = {1: "first-share", 10: "shares-10", 50: "shares-50", 100: "shares-100"}
STREAK_BADGES = {4: "streak-4-weeks", 12: "streak-12-weeks", 26: "streak-26-weeks"}
TOP_TEN = "top-10"
"""Granted for a first top-10 finish in a contest."""
ALL_BADGES = (*SHARE_COUNT_BADGES.values(), *STREAK_BADGES.values(), TOP_TEN)
_WEEK = 7


class ShareStats(Protocol):
    shares: int
    streak_week: int | None
    streak_weeks: int


def count_share(stats: ShareStats, week: int) -> list[str]:
    """Count one rewardable share made in local week `week` (Monday ordinal); return the
    badges whose threshold it reaches (inserting them is idempotent: unique per advocate)."""
    stats.shares += 1
    earned = [SHARE_COUNT_BADGES[stats.shares]] if stats.shares in SHARE_COUNT_BADGES else []
    last = stats.streak_week
    if last is None or week > last + _WEEK:
        stats.streak_week, stats.streak_weeks = week, 1
    elif week == last + _WEEK:
        stats.streak_week, stats.streak_weeks = week, stats.streak_weeks + 1
        if stats.streak_weeks in STREAK_BADGES:
            earned.append(STREAK_BADGES[stats.streak_weeks])
    return earned


async def grant_badges(
    conn: asyncpg.Connection, grants: Sequence[tuple[str, str, str, str]]
) -> int:
    """Insert (tenant, advocate, badge, cause) rows; a badge already held is kept as it was
    (unique per advocate). Returns how many were new."""
    if not grants:
        return 0
    rows = await conn.fetch(
        "INSERT INTO badges (tenant_id, advocate_id, badge, cause) "
        "SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) "
        "ON CONFLICT DO NOTHING RETURNING badge",
        [g[0] for g in grants],
        [g[1] for g in grants],
        [g[2] for g in grants],
        [g[3] for g in grants],
    )
    return len(rows)
