"""From a committed batch to Redis: standings in the transaction, absolute ZADDs after it.

Inside the batch's transaction, `update_standings` folds the new earning entries
into the standings rows (see `standings`) and collects, for every board cell an
entry changed, the cell's new absolute value and reach time. Cells of older
buckets ("late" entries) are summed from the ledger, which already holds the
batch's entries. Nothing is written to Redis until the runner has committed:
the returned `AfterCommit` then writes those values with ZADD (absolute, never
ZINCRBY) and publishes one change notice per tenant.

Why this converges: every value written is the committed value of its cell at
the batch's commit. Running the callback twice writes the same values; if a
crash loses it, the next change of the same advocate rewrites the cells it
touches, and `python -m chorus_rewards rebuild` rewrites everything. The cells
of one advocate are only written by the transaction holding the advocate's
lock (see `repository.ledger`), and the runner runs the callback before it
takes the next batch or lets a rebalance revoke the partition, so a stale
callback cannot overwrite a newer value in normal operation; only a member
that lost its partition while stalled could, and `check` reports such drift.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

import asyncpg
from redis.asyncio import Redis
from redis.exceptions import RedisError

from chorus_rewards import metrics, resp
from chorus_rewards.accrual import EARNING_KINDS, LedgerEntry, TenantContext
from chorus_rewards.board_changes import BoardChanges
from chorus_rewards.boards import METRICS, ranks_metric, scopes_of
from chorus_rewards.periods import PERIODS, bucket_end, bucket_start, bucket_tuple
from chorus_rewards.redis_line import RedisLine
from chorus_rewards.repository import standings as repo
from chorus_rewards.standings import (
    PERIOD_MASKS,
    POINTS_MASK,
    SLOTS,
    Standing,
    apply_entry,
    to_ms,
)

log = logging.getLogger(__name__)


async def update_standings(
    conn: asyncpg.Connection,
    contexts: dict[str, TenantContext],
    entries: Sequence[LedgerEntry],
    ledger_writes: Callable[[], Awaitable[None]] | None = None,
) -> BoardChanges:
    """Fold `entries` into the standings rows, save them, return the board cells to write.

    `ledger_writes`, when given, writes the batch's entries (and the rest of its ledger
    effects) on `conn`: it is started once the rows are loaded and runs while the fold,
    which is pure Python, does, so Postgres executes the batch's largest statement while
    this process folds; it is awaited before `conn` is used again (the late cells below
    are summed from the ledger and must see the batch's entries).
    """
    earning = [e for e in entries if e.kind in EARNING_KINDS]
    scoped = [(e, _scopes(e.team_ids, e.hashtags)) for e in earning]
    keys = {(e.tenant_id, e.advocate_id, s) for e, scopes in scoped for s, _ in scopes}
    rows = await repo.load(conn, keys)
    writing = None
    if ledger_writes is not None:
        writing = asyncio.ensure_future(ledger_writes())
        await asyncio.sleep(0)  # one step: the task sends its statement, then waits for it
    try:
        changes, late = _fold(contexts, scoped, rows)
    finally:
        if writing is not None:
            await writing
    await repo.save(conn, [rows[k] for k in keys])
    cells = sorted(late)
    bounds = [
        (tenant_id, advocate_id, scope, *_bucket_bounds(contexts[tenant_id].tz, p, bucket))
        for (tenant_id, advocate_id, scope), p, bucket in cells
    ]
    metrics.LATE_BUCKETS.inc(len(cells))
    for cell, sums in zip(cells, await repo.aggregate_cells(conn, bounds), strict=True):
        (tenant_id, advocate_id, scope), p, bucket = cell
        tz = contexts[tenant_id].tz
        for m, (total, last) in enumerate(sums):
            if last is not None and ranks_metric(scope, m):
                s = p * _METRICS + m
                changes.set_slot(tenant_id, tz, scope, s, bucket, advocate_id, total, last)
    return changes


def _bucket_bounds(tz: ZoneInfo, p: int, bucket: int) -> tuple[datetime, datetime]:
    period = PERIODS[p]
    return bucket_start(period, bucket, tz), bucket_end(period, bucket, tz)


Late = set[tuple[repo.StandingKey, int, int]]
"""(row key, period index, bucket) of cells older than their row's bucket."""


def _fold(
    contexts: dict[str, TenantContext],
    scoped: list[tuple[LedgerEntry, Scoped]],
    rows: dict[repo.StandingKey, Standing],
) -> tuple[BoardChanges, Late]:
    """Fold the entries into `rows` (creating missing ones); return the cells they changed
    (from the rows' final state) and the late cells, still to be summed from the ledger."""
    changes = BoardChanges()
    # Slots of each row changed by this batch, emitted once from the row's final state
    # after the fold (most rows take one entry per batch; a per-cell record of every
    # intermediate value cost more than the fold itself). A row that rolls a period into
    # a newer bucket first emits the cells it changed in the older one (`_emit_rolled`).
    dirty: dict[repo.StandingKey, int] = {}
    """Slot mask per row (`standings.SLOTS_OF`)."""
    late: Late = set()
    for entry, scopes in scoped:
        tenant_id, advocate_id, when = entry.tenant_id, entry.advocate_id, entry.occurred_at
        tz = contexts[tenant_id].tz
        buckets = bucket_tuple(when, tz)
        at_ms = to_ms(when)
        deltas = (entry.points, entry.engagement, entry.reach)  # `metric_deltas`
        for scope, ranked in scopes:
            key = (tenant_id, advocate_id, scope)
            row = rows.get(key)
            if row is None:
                row = rows[key] = Standing(tenant_id, advocate_id, scope)
            marks = dirty.get(key, 0)
            if marks:
                marks = _emit_rolled(changes, tz, row, buckets, marks)
            changed, late_cells = apply_entry(row, buckets, deltas, at_ms)
            dirty[key] = marks | (changed & ranked)
            for p, bucket in late_cells:
                late.add((key, p, bucket))
    set_row = changes.set_row  # `_emit`, inlined: once per changed row
    for key, marks in dirty.items():
        if marks:
            row = rows[key]
            tz = contexts[key[0]].tz
            set_row(key[0], tz, key[2], key[1], marks, row.buckets, row.values, row.reached)
    return changes, late


_METRICS = len(METRICS)


Scoped = tuple[tuple[str, int], ...]
"""An entry's scopes, each with the mask of the slots it has boards for."""
_ALL_SLOTS = (1 << SLOTS) - 1


@lru_cache(maxsize=4096)
def _scopes(team_ids: tuple[str, ...], hashtags: tuple[str, ...]) -> Scoped:
    """`scopes_of` with each scope's ranked slots, remembered: advocates share a few team
    and hashtag combinations."""
    return tuple(
        (scope, _ALL_SLOTS if ranks_metric(scope, 1) else POINTS_MASK)
        for scope in scopes_of(team_ids, hashtags)
    )


def _emit(changes: BoardChanges, tz: ZoneInfo, row: Standing, slots: int) -> None:
    """Record the row's current value of the `slots` mask (in the row's current buckets)."""
    changes.set_row(
        row.tenant_id,
        tz,
        row.scope,
        row.advocate_id,
        slots,
        row.buckets,
        row.values,
        row.reached,
    )


def _emit_rolled(
    changes: BoardChanges,
    tz: ZoneInfo,
    row: Standing,
    buckets: tuple[int, int, int],
    marks: int,
) -> int:
    """Before `row` moves a period to a newer bucket, record the final values of the cells
    this batch changed in the older one (their board must show them); return `marks`
    without them."""
    for p in range(1, len(PERIODS)):
        held = row.buckets[p - 1]
        if held is None or buckets[p - 1] <= held:
            continue
        rolled = marks & PERIOD_MASKS[p]
        if rolled:
            _emit(changes, tz, row, rolled)
            marks &= ~rolled
    return marks


class BoardWriter:
    """Writes `BoardChanges` to Redis: ZADD absolute scores, EXPIREAT, PUBLISH notices."""

    EXPIRY_MEMORY = 100_000

    def __init__(self, redis: Redis, *, attempts: int = 5, backoff: float = 0.2) -> None:
        self.redis = redis
        self.attempts = attempts
        self.backoff = backoff
        # Its own pipelined connection when Redis is plain TCP: the batch's replies are
        # counted in one loop instead of one redis-py read each (see `redis_line`).
        self._line = RedisLine.for_client(redis)
        # Keys this process already gave their EXPIREAT: a board is written by many
        # batches, its expiry never changes, and the command costs as much as a ZADD.
        # A key recreated after a wipe gets its expiry back from the rebuild.
        self._expiring: set[str] = set()

    async def write(self, changes: BoardChanges) -> None:
        commands = []
        new_expiries = []
        bulks: dict[str, bytes] = {}
        for boards in changes.scores.values():
            for key, members in boards.items():
                commands.append(resp.zadd(key, members, bulks))
                expires = changes.expiry.get(key)
                if expires is not None and key not in self._expiring:
                    commands.append(resp.command("EXPIREAT", key, expires))
                    new_expiries.append(key)
        for tenant_id in changes.scores:
            commands.append(resp.command("PUBLISH", *changes.notice(tenant_id)))
        if self._line is not None:
            await self._line.execute_many(commands)
        else:
            await resp.send(self.redis, commands)
        if len(self._expiring) > self.EXPIRY_MEMORY:
            self._expiring.clear()
        self._expiring.update(new_expiries)
        metrics.BOARD_WRITES.inc(changes.members())

    async def close(self) -> None:
        if self._line is not None:
            await self._line.close()

    async def write_after_commit(self, changes: BoardChanges) -> None:
        """Retry a Redis outage for a while (the consumer waits: backpressure), then give up
        and let the runner retry the batch; the values are healed as described above."""
        for attempt in range(1, self.attempts + 1):
            try:
                await self.write(changes)
                return
            except (RedisError, OSError) as exc:
                if attempt == self.attempts:
                    metrics.BOARD_WRITE_FAILURES.inc()
                    raise
                log.warning("leaderboard write failed (%r), retry %d", exc, attempt)
                await asyncio.sleep(self.backoff * 2**attempt)
