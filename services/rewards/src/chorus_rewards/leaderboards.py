"""Reading the live leaderboards: top N, an advocate's rank and the window around them.

Scores encode the whole order (see `scoring`), so every read is one or two
O(log n) Redis round trips, whatever the board size. Which bucket a period
means ("this week") is decided in the tenant's time zone.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from time import perf_counter
from typing import Any

from chorus_platform.identity import Identity
from chorus_platform.problems import Forbidden, UnprocessableEntity
from redis.asyncio import Redis

from chorus_rewards import metrics
from chorus_rewards.boards import METRICS, Metric, ScopeKind, board_key, ranks_metric, scope_key
from chorus_rewards.periods import Period, bucket_for_date, bucket_label, zone
from chorus_rewards.redis_line import LineScript, RedisLine
from chorus_rewards.scoring import decode_value
from chorus_rewards.tenants import SettingsCache


@dataclass(frozen=True)
class BoardQuery:
    metric: Metric = Metric.POINTS
    scope: ScopeKind = ScopeKind.TENANT
    scope_id: str | None = None
    period: Period = Period.ALL
    on: date | None = None
    """A local date inside the wanted bucket; default today in the tenant's zone."""


@dataclass(frozen=True)
class ResolvedBoard:
    key: str
    metric: Metric
    scope: str
    period: Period
    bucket: str
    time_zone: str


@dataclass(frozen=True)
class Ranked:
    rank: int
    advocate_id: str | None
    """None when the tenant's boards are anonymous and the viewer may not see who it is."""
    value: int
    you: bool


@dataclass(frozen=True)
class BoardPage:
    board: ResolvedBoard
    total: int
    entries: list[Ranked]


@dataclass(frozen=True)
class AdvocateStanding:
    board: ResolvedBoard
    advocate_id: str
    rank: int | None
    value: int | None
    window: list[Ranked]


# One round trip and one command per read: a redis-py pipeline of two commands costs the
# client about twice the CPU of one command, and client CPU is what limits read throughput
# (Redis itself answers a ZRANK in ~20 us). Redis 7.0 has no ZRANK ... WITHSCORE.
_TOP = """
return {redis.call('ZRANGE', KEYS[1], ARGV[1], ARGV[2], 'WITHSCORES'), redis.call('ZCARD', KEYS[1])}
"""
"""ARGV: first, last index. Returns {{member, score, ...}, board size}."""
_STANDING = """
local rank = redis.call('ZRANK', KEYS[1], ARGV[1])
if not rank then return false end
local window, rows = tonumber(ARGV[2]), {}
if window > 0 then
  rows = redis.call('ZRANGE', KEYS[1], math.max(rank - window, 0), rank + window, 'WITHSCORES')
end
return {rank, redis.call('ZSCORE', KEYS[1], ARGV[1]), rows}
"""
"""ARGV: advocate, window. Returns false off the board, else {rank, score, {member, score, ...}}."""


class Leaderboards:
    """The read use cases. With a `RedisLine` (what the service runs: `open_leaderboards`)
    the scripts run on that pipelined connection, else through redis-py."""

    def __init__(
        self, redis: Redis, settings: SettingsCache, line: RedisLine | None = None
    ) -> None:
        self.redis = redis
        self.settings = settings
        self.line = line
        self._top: Callable[..., Awaitable[Any]]
        self._standing: Callable[..., Awaitable[Any]]
        if line is not None:
            self._top, self._standing = LineScript(line, _TOP), LineScript(line, _STANDING)
        else:
            self._top, self._standing = (
                redis.register_script(_TOP),
                redis.register_script(_STANDING),
            )

    async def resolve(self, tenant_id: str, q: BoardQuery) -> ResolvedBoard:
        tz_name = (await self.settings.get(tenant_id)).time_zone
        scope = scope_key(q.scope, q.scope_id)
        if not ranks_metric(scope, METRICS.index(q.metric)):
            raise UnprocessableEntity("team leaderboards rank points only", field="metric")
        bucket: int | None = None
        if q.period is not Period.ALL:
            day = q.on or datetime.now(UTC).astimezone(zone(tz_name)).date()
            bucket = bucket_for_date(q.period, day)
        key = board_key(tenant_id, q.metric, scope, q.period, bucket)
        return ResolvedBoard(
            key, q.metric, scope, q.period, bucket_label(q.period, bucket), tz_name
        )

    async def _names(self, tenant_id: str, viewer: Identity, admin: bool) -> bool:
        """True when the viewer may see other advocates' ids on this tenant's boards."""
        return admin or not (await self.settings.get(tenant_id)).anonymous_leaderboards

    @staticmethod
    def _ranked(rows: list[str], first_rank: int, viewer: Identity, names: bool) -> list[Ranked]:
        """`rows` as Lua returns ZRANGE WITHSCORES: member, score, member, score, ..."""
        out = []
        for i in range(0, len(rows), 2):
            member = rows[i]
            you = member == viewer.principal_id
            shown = member if names or you else None
            value = decode_value(float(rows[i + 1]))
            out.append(Ranked(first_rank + i // 2, shown, value, you))
        return out

    async def top(
        self, viewer: Identity, q: BoardQuery, limit: int, offset: int, admin: bool
    ) -> BoardPage:
        board = await self.resolve(viewer.tenant_id, q)
        started = perf_counter()
        found = await self._top(keys=[board.key], args=[offset, offset + limit - 1])
        rows, total = found
        metrics.LEADERBOARD_READ.labels("top").observe(perf_counter() - started)
        names = await self._names(viewer.tenant_id, viewer, admin)
        return BoardPage(board, total, self._ranked(rows, offset + 1, viewer, names))

    async def standing(
        self, viewer: Identity, q: BoardQuery, advocate_id: str, window: int, admin: bool
    ) -> AdvocateStanding:
        names = await self._names(viewer.tenant_id, viewer, admin)
        if not names and advocate_id != viewer.principal_id:
            raise Forbidden("this tenant's leaderboards are anonymous: you may see only your own")
        board = await self.resolve(viewer.tenant_id, q)
        started = perf_counter()
        found = await self._standing(keys=[board.key], args=[advocate_id, window])
        metrics.LEADERBOARD_READ.labels("rank").observe(perf_counter() - started)
        if found is None:
            return AdvocateStanding(board, advocate_id, None, None, [])
        rank, score, rows = found
        first_rank = max(rank - window, 0) + 1
        return AdvocateStanding(
            board,
            advocate_id,
            rank + 1,
            decode_value(float(score)),
            self._ranked(rows, first_rank, viewer, names),
        )


def open_leaderboards(redis: Redis, settings: SettingsCache) -> Leaderboards:
    """The service's leaderboards: on their own pipelined connection when Redis is plain TCP
    (`redis_line`); close with `close_leaderboards`."""
    return Leaderboards(redis, settings, RedisLine.for_client(redis))


async def close_leaderboards(boards: Leaderboards) -> None:
    if boards.line is not None:
        await boards.line.close()
