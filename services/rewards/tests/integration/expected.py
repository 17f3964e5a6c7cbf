"""An independent model of the documented rewards rules, for checking the service.

Written from the rules as documented (README of the service, module docstrings),
deliberately without importing the service's domain code: points with the
default rules, daily caps per advocate/action/local day, totals with a
per-share sequence guard, corrections taking back at most what was paid, and
boards per scope/period ranked by value, then reach time, then advocate id.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from chorus_events.contracts.base import Network
from chorus_events.contracts.engagement import EngagementUpdated
from chorus_events.contracts.sharing import SharePosted

SHARE_POINTS = {n: 10 for n in Network} | {Network.EMAIL: 5, Network.FACEBOOK: 0}
RATES = {"clicks": 1, "reactions": 1, "comments": 2, "reshares": 3}
CAPS = {"share": 100, "clicks": 200, "reactions": 200, "comments": 200, "reshares": 200}
CAPS["impressions"] = 100
ORDER = ("clicks", "reactions", "comments", "reshares", "impressions")
EPOCH_2020 = datetime(2020, 1, 1, tzinfo=UTC)

BoardId = tuple[str, str, str, date | None]
"""(metric, scope, period, first local day of the bucket or None for all-time)."""


@dataclass
class Entry:
    advocate: str
    at: datetime
    points: int
    engagement: int
    reach: int
    teams: tuple[str, ...]
    tags: tuple[str, ...]


@dataclass
class _Share:
    sequence: int = 0
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ORDER, 0))
    paid: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ORDER, 0))


def _value(action: str, count: int) -> int:
    return math.floor(count / 1000) if action == "impressions" else count * RATES[action]


class ExpectedRewards:
    def __init__(self, tz: ZoneInfo) -> None:
        self.tz = tz
        self.entries: list[Entry] = []
        self.shares_seen: set[str] = set()
        self.progress: dict[str, _Share] = defaultdict(_Share)
        self.used: dict[tuple[str, str, date], int] = defaultdict(int)

    def _grant(self, advocate: str, action: str, day: date, raw: int) -> int:
        key = (advocate, action, day)
        granted = max(0, min(raw, CAPS[action] - self.used[key]))
        self.used[key] += granted
        return granted

    def apply(self, event: SharePosted | EngagementUpdated) -> None:
        if isinstance(event, SharePosted):
            if event.share_id in self.shares_seen:
                return
            self.shares_seen.add(event.share_id)
            day = event.posted_at.astimezone(self.tz).date()
            points = self._grant(event.advocate_id, "share", day, SHARE_POINTS[event.network])
            self._entry(event, event.posted_at, points, 0, 0)
            return
        state = self.progress[event.share_id]
        if event.sequence <= state.sequence:
            return
        state.sequence = event.sequence
        day = event.window_end.astimezone(self.tz).date()
        points = 0
        deltas = {}
        for action in ORDER:
            new, old = getattr(event.totals, action), state.counts[action]
            deltas[action] = new - old
            raw = _value(action, new) - _value(action, old)
            if raw > 0:
                got = self._grant(event.advocate_id, action, day, raw)
            else:
                got = -min(-raw, state.paid[action])
            state.paid[action] += got
            state.counts[action] = new
            points += got
        if any(deltas.values()):
            engagement = sum(deltas[a] for a in ORDER[:4])
            self._entry(event, event.window_end, points, engagement, deltas["impressions"])

    def _entry(
        self, e: SharePosted | EngagementUpdated, at: datetime, p: int, eng: int, reach: int
    ) -> None:
        tags = tuple(dict.fromkeys(t.lower() for t in e.campaign_hashtags))
        self.entries.append(Entry(e.advocate_id, at, p, eng, reach, tuple(e.team_ids), tags))

    def balances(self) -> dict[str, int]:
        out: dict[str, int] = defaultdict(int)
        for e in self.entries:
            out[e.advocate] += e.points
        return dict(out)

    def _buckets(self, at: datetime) -> dict[str, date | None]:
        day = at.astimezone(self.tz).date()
        return {
            "all": None,
            "month": day.replace(day=1),
            "week": day - timedelta(days=day.weekday()),
            "day": day,
        }

    def _start(self, period: str, first: date | None) -> datetime:
        if first is None:
            return EPOCH_2020
        return datetime(first.year, first.month, first.day, tzinfo=self.tz).astimezone(UTC)

    def boards(self) -> dict[BoardId, list[tuple[str, int]]]:
        """Every board with its members in rank order: (advocate, value)."""
        cells: dict[BoardId, dict[str, _Cell]] = defaultdict(dict)
        for e in self.entries:
            scopes = ["tenant", *(f"team:{t}" for t in e.teams), *(f"tag:{t}" for t in e.tags)]
            ranked = [s for s in scopes if not s.startswith("team:")]  # teams: points only
            self._add(cells, "points", e.points, e, scopes)
            self._add(cells, "engagement", e.engagement, e, ranked)
            self._add(cells, "reach", e.reach, e, ranked)
        return {board: self._rank(board, members) for board, members in cells.items()}

    def _rank(self, board: BoardId, members: dict[str, _Cell]) -> list[tuple[str, int]]:
        first = board[3]
        start = self._start(board[2], first)
        unit = 3600 if first is None else 1  # all-time: hours since 2020; periods: seconds

        def key(advocate: str) -> tuple[int, int, str]:
            cell = members[advocate]
            return (-cell.value, int((cell.reached - start).total_seconds() // unit), advocate)

        return [(a, members[a].value) for a in sorted(members, key=key)]

    def _add(
        self,
        cells: dict[BoardId, dict[str, _Cell]],
        metric: str,
        delta: int,
        e: Entry,
        scopes: list[str],
    ) -> None:
        if not delta:
            return
        for scope in scopes:
            for period, first in self._buckets(e.at).items():
                cell = cells[(metric, scope, period, first)].setdefault(e.advocate, _Cell(0, e.at))
                cell.value += delta
                cell.reached = max(cell.reached, e.at)


@dataclass
class _Cell:
    value: int
    reached: datetime
