"""Rebuild the Redis rankings from the ledger, and check that they agree with it.

Both fold the tenant's earning entries, in ledger order, with the same code the
live path uses (`periods`, `standings`, `scoring`): every board cell is the sum
of its entries and the latest time one of them changed it. While folding, the
tenant's advisory lock is held exclusively, so no consumer batch commits in the
middle (see `repository.locks`).

The rebuild writes each board under a temporary key and then, in one
MULTI/EXEC, renames them over the live keys and deletes live keys that should
no longer exist: readers see the old rankings or the new ones, never a mix
(all of a tenant's keys share a hash slot, so this also holds on a cluster).
It also rewrites the standings rows, the consumer's committed state.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import cast

import asyncpg
from redis.asyncio import Redis

from chorus_rewards.board_changes import BoardChanges
from chorus_rewards.boards import (
    METRICS,
    boards_pattern,
    changes_channel,
    ranks_metric,
    scopes_of,
    tenant_prefix,
)
from chorus_rewards.periods import PERIODS, buckets_of, zone
from chorus_rewards.repository import rules as rules_repo
from chorus_rewards.repository import standings as repo
from chorus_rewards.repository.locks import lock_tenant_exclusive
from chorus_rewards.standings import Standing, apply_entry, expire_at, to_ms

ZADD_CHUNK = 5000
Cell = tuple[str, int, int | None, int]
"""(scope, period index, bucket, metric index)."""


@dataclass
class Expected:
    changes: BoardChanges
    standings: dict[tuple[str, str], Standing]


async def compute(conn: asyncpg.Connection, tenant_id: str, now: float | None = None) -> Expected:
    """What the tenant's boards and standings must be, from its ledger (inside a transaction)."""
    row = (await rules_repo.settings_rows(conn, [tenant_id])).get(tenant_id)
    tz = zone(row["time_zone"] if row is not None else rules_repo.DEFAULT_TIME_ZONE)
    cells: dict[Cell, dict[str, list[int]]] = {}
    standings: dict[tuple[str, str], Standing] = {}
    async for e in repo.earning_entries(conn, tenant_id):
        advocate = e["advocate_id"]
        buckets = buckets_of(e["occurred_at"], tz).as_tuple()
        at_ms = to_ms(e["occurred_at"])
        deltas = (e["points"], e["engagement"], e["reach"])
        for scope in scopes_of(e["team_ids"], e["hashtags"]):
            st = standings.get((advocate, scope))
            if st is None:
                st = standings[(advocate, scope)] = Standing(tenant_id, advocate, scope)
            apply_entry(st, buckets, deltas, at_ms)
            for p in range(len(PERIODS)):
                bucket = buckets[p - 1] if p else None
                for m, delta in enumerate(deltas):
                    if delta and ranks_metric(scope, m):
                        acc = cells.setdefault((scope, p, bucket, m), {}).setdefault(
                            advocate, [0, 0]
                        )
                        acc[0] += delta
                        acc[1] = max(acc[1], at_ms)
    changes = BoardChanges()
    now = time.time() if now is None else now
    for (scope, p, bucket, m), members in cells.items():
        expires = expire_at(PERIODS[p], bucket, tz)
        if expires is not None and expires <= now:
            continue  # the live path lets such boards expire: so does the rebuild
        s = p * len(METRICS) + m
        for advocate, (value, reached) in members.items():
            changes.set_slot(tenant_id, tz, scope, s, bucket, advocate, value, reached)
    return Expected(changes, standings)


async def live_board_keys(redis: Redis, tenant_id: str) -> set[str]:
    return {k async for k in redis.scan_iter(match=boards_pattern(tenant_id), count=1000)}


async def _swap(redis: Redis, tenant_id: str, changes: BoardChanges) -> int:
    boards = changes.scores.get(tenant_id, {})
    token = secrets.token_hex(6)
    prefix = tenant_prefix(tenant_id)
    staging = {key: f"{prefix}rebuild:{token}:{key.removeprefix(prefix)}" for key in boards}
    for key, members in boards.items():
        items = list(members.items())
        async with redis.pipeline(transaction=False) as pipe:
            for i in range(0, len(items), ZADD_CHUNK):
                pipe.zadd(staging[key], dict(items[i : i + ZADD_CHUNK]))
            if key in changes.expiry:
                pipe.expireat(staging[key], changes.expiry[key])
            await pipe.execute()
    stale = await live_board_keys(redis, tenant_id) - set(boards)
    async with redis.pipeline(transaction=True) as tx:
        for key, temp in staging.items():
            tx.rename(temp, key)
        if stale:
            tx.delete(*stale)
        tx.publish(
            changes_channel(tenant_id), json.dumps({"tenant_id": tenant_id, "rebuilt": True})
        )
        await tx.execute()
    return len(boards)


async def rebuild_tenant(pool: asyncpg.Pool, redis: Redis, tenant_id: str) -> int:
    """Rebuild one tenant's boards and standings; return the number of boards written."""
    async with pool.acquire() as conn, conn.transaction():
        await lock_tenant_exclusive(conn, tenant_id)
        expected = await compute(conn, tenant_id)
        await repo.replace_tenant(conn, tenant_id, list(expected.standings.values()))
        # Redis is written while the lock is held: no batch can commit between the fold
        # and the swap. If Redis fails, the standings rewrite rolls back with it.
        return await _swap(redis, tenant_id, expected.changes)


@dataclass
class Drift:
    tenant_id: str
    problems: list[str] = field(default_factory=list)
    boards_checked: int = 0

    def add(self, problem: str) -> None:
        self.problems.append(problem)


async def _board_diffs(redis: Redis, expected: BoardChanges, tenant_id: str) -> dict[str, str]:
    boards = expected.scores.get(tenant_id, {})
    diffs: dict[str, str] = {}
    for key in set(boards) | await live_board_keys(redis, tenant_id):
        want = boards.get(key, {})
        have = dict(cast(list[tuple[str, float]], await redis.zrange(key, 0, -1, withscores=True)))
        if want != have:
            wrong = sorted(a for a in set(want) | set(have) if want.get(a) != have.get(a))
            diffs[key] = f"{len(wrong)} member(s) differ, e.g. {wrong[:3]}"
    return diffs


async def check_tenant(pool: asyncpg.Pool, redis: Redis, tenant_id: str) -> Drift:
    """Compare Redis boards, standings rows and balances with the ledger."""
    drift = Drift(tenant_id)
    async with pool.acquire() as conn, conn.transaction():
        await lock_tenant_exclusive(conn, tenant_id)
        expected = await compute(conn, tenant_id)
        drift.boards_checked = len(expected.changes.scores.get(tenant_id, {}))
        stored = {(s.advocate_id, s.scope): s for s in await repo.tenant_rows(conn, tenant_id)}
        for who in sorted(set(stored) | set(expected.standings)):
            if stored.get(who) != expected.standings.get(who):
                drift.add(f"standings row {who} differs from the ledger")
        for row in await conn.fetch(
            "SELECT a.advocate_id, a.balance, a.earned, coalesce(l.total, 0) AS total, "
            "coalesce(l.earned, 0) AS ledger_earned FROM accounts a LEFT JOIN ("
            "SELECT advocate_id, sum(points) AS total, sum(points) FILTER "
            "(WHERE kind IN ('share', 'engagement')) AS earned FROM ledger "
            "WHERE tenant_id = $1 GROUP BY advocate_id) l USING (advocate_id) "
            "WHERE a.tenant_id = $1 AND (a.balance <> coalesce(l.total, 0) "
            "OR a.earned <> coalesce(l.earned, 0))",
            tenant_id,
        ):
            drift.add(
                f"balance of {row['advocate_id']}: account {row['balance']}/{row['earned']}, "
                f"ledger {row['total']}/{row['ledger_earned']}"
            )
        diffs = await _board_diffs(redis, expected.changes, tenant_id)
        if diffs:  # an after-commit write may still be in flight: look again once
            await asyncio.sleep(1.0)
            diffs = await _board_diffs(redis, expected.changes, tenant_id)
        for key, what in sorted(diffs.items()):
            drift.add(f"board {key}: {what}")
    return drift
