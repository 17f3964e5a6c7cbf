"""SQL of the ledger consumer: advocate locks, shares, share progress, caps, ledger, accounts.

Locking rule: every transaction that writes an advocate's rows (ledger, account,
share progress, caps, standings) first locks the advocate's `accounts` row,
in sorted order across advocates. One advocate's events come in on two topics
whose partitions may be owned by different consumer instances, and a redemption
can run at the same time; the row lock serialises all of them, so the
read-modify-write of the state below is safe without further locks.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
from chorus_platform.packed import rows

from chorus_rewards.accrual import CapDay, CapKey, LedgerEntry, ShareProgress
from chorus_rewards.repository.arrays import int_array, text_array_of
from chorus_rewards.rules import Action

Advocate = tuple[str, str]


@dataclass
class AccountRow:
    tenant_id: str
    advocate_id: str
    shares: int
    streak_week: int | None
    streak_weeks: int
    balance_delta: int = 0
    earned_delta: int = 0


async def lock_advocates(
    conn: asyncpg.Connection, advocates: Iterable[Advocate]
) -> dict[Advocate, AccountRow]:
    """Create missing accounts, lock all of them in key order, return their share stats.

    One statement: the upsert visits the keys in key order (`ORDER BY`) and locks each
    row it inserts or "updates" (to the same value: no indexed column changes, so the
    version stays on its page), the same order and locks as a `SELECT ... FOR UPDATE`
    after an `INSERT ... DO NOTHING`, for one round trip and one key lookup fewer."""
    found = await conn.fetch(
        "INSERT INTO accounts AS a (tenant_id, advocate_id) SELECT r->>0, r->>1 FROM "
        "jsonb_array_elements($1::text::jsonb) AS r ORDER BY 1, 2 "
        "ON CONFLICT (tenant_id, advocate_id) DO UPDATE SET shares = a.shares "
        "RETURNING a.tenant_id, a.advocate_id, a.shares, a.streak_week, a.streak_weeks",
        rows(sorted(set(advocates))),
    )
    return {
        (r["tenant_id"], r["advocate_id"]): AccountRow(
            r["tenant_id"], r["advocate_id"], r["shares"], r["streak_week"], r["streak_weeks"]
        )
        for r in found
    }


@dataclass(frozen=True)
class NewShare:
    tenant_id: str
    share_id: str
    advocate_id: str
    network: str
    rewardable: bool
    team_ids: tuple[str, ...]
    hashtags: tuple[str, ...]
    posted_at: Any
    event_id: str


async def insert_shares(conn: asyncpg.Connection, shares: Sequence[NewShare]) -> set[Advocate]:
    """Record shares; return the (tenant, share id)s that were not known before."""
    if not shares:
        return set()
    inserted = await conn.fetch(
        "INSERT INTO shares (tenant_id, share_id, advocate_id, network, rewardable, team_ids, "
        "hashtags, posted_at, event_id) "
        "SELECT r->>0, r->>1, r->>2, r->>3, (r->>4)::bool, (r->>5)::text[], (r->>6)::text[], "
        "(r->>7)::timestamptz, r->>8 FROM jsonb_array_elements($1::text::jsonb) AS r "
        "ON CONFLICT DO NOTHING RETURNING tenant_id, share_id",
        rows(
            (
                s.tenant_id,
                s.share_id,
                s.advocate_id,
                s.network,
                s.rewardable,
                text_array_of(s.team_ids),
                text_array_of(s.hashtags),
                s.posted_at,
                s.event_id,
            )
            for s in shares
        ),
    )
    return {(r["tenant_id"], r["share_id"]) for r in inserted}


async def load_progress(
    conn: asyncpg.Connection, keys: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], ShareProgress]:
    found = await conn.fetch(
        "SELECT p.tenant_id, p.share_id, p.advocate_id, p.sequence, p.counts, p.paid "
        "FROM share_progress p JOIN jsonb_array_elements($1::text::jsonb) AS r "
        "ON p.tenant_id = r->>0 AND p.share_id = r->>1",
        rows(list(set(keys))),  # unsorted: a read (the rows are locked by their advocate's)
    )
    return {
        (r["tenant_id"], r["share_id"]): ShareProgress(
            r["tenant_id"],
            r["share_id"],
            r["advocate_id"],
            r["sequence"],
            list(r["counts"]),
            list(r["paid"]),
        )
        for r in found
    }


async def load_caps(conn: asyncpg.Connection, keys: Iterable[CapKey]) -> dict[CapKey, int]:
    """Cap usage of the (tenant, advocate, day)s of `keys`: every action with usage on
    each of those days, not only the actions asked for (`write_batch` writes whole days
    and needs the rest of each day it writes)."""
    return await load_cap_days(conn, {(k[0], k[1], k[3]) for k in keys})


async def load_cap_days(conn: asyncpg.Connection, keys: Iterable[CapDay]) -> dict[CapKey, int]:
    """Cap usage of every action with usage on each (tenant, advocate, day) of `keys`."""
    days = list(set(keys))  # unsorted: a read (the rows are locked by their advocate's)
    if not days:
        return {}
    loaded = await conn.fetch(
        "SELECT c.tenant_id, c.advocate_id, c.day, c.granted FROM cap_days c "
        "JOIN jsonb_array_elements($1::text::jsonb) AS r "
        "ON c.tenant_id = r->>0 AND c.advocate_id = r->>1 AND c.day = (r->>2)::int",
        rows(days),
    )
    usage: dict[CapKey, int] = {}
    for t, v, d, granted in loaded:
        for action, g in zip(_CAP_ACTIONS, granted, strict=False):
            if g:
                usage[(t, v, action, d)] = g
    return usage


_CAP_ACTIONS = tuple(a.value for a in Action)
"""The order of `cap_days.granted` (migration 0008): a new action is appended."""
_CAP_SLOT = {a: i for i, a in enumerate(_CAP_ACTIONS)}


def cap_days(caps: Mapping[CapKey, int]) -> list[tuple[str, str, int, str]]:
    """`caps` folded into `cap_days` rows (tenant, advocate, day, granted literal), in key
    order. `caps` must hold every action with usage on each of its days: an action it
    lacks is written as 0."""
    days: dict[tuple[str, str, int], list[int]] = {}
    for (t, v, action, d), granted in caps.items():
        day = days.get((t, v, d))
        if day is None:
            day = days[(t, v, d)] = [0] * len(_CAP_ACTIONS)
        day[_CAP_SLOT[action]] = granted
    return [(t, v, d, int_array(days[(t, v, d)])) for t, v, d in sorted(days)]


async def insert_entries(conn: asyncpg.Connection, entries: Sequence[LedgerEntry]) -> None:
    """Append entries (the runner's tracking already deduplicated events)."""
    await write_batch(conn, entries=entries)


async def write_batch(
    conn: asyncpg.Connection,
    *,
    entries: Sequence[LedgerEntry] = (),
    progress: Sequence[ShareProgress] = (),
    caps: Mapping[CapKey, int] | None = None,
    accounts: Sequence[AccountRow] = (),
    badges: Sequence[tuple[str, str, str, str]] = (),
) -> None:
    """Append ledger entries and write share progress, cap usage, account deltas and badges
    ((tenant, advocate, badge, cause); one already held is kept as it was), in ONE
    statement (data-modifying CTEs on five different tables): one round trip, and the
    consumer folds standings while Postgres executes it (see `board_sync`)."""
    caps = caps or {}
    if not (entries or progress or caps or accounts or badges):
        return
    await conn.execute(
        "WITH entries AS (INSERT INTO ledger (tenant_id, advocate_id, kind, points, "
        "engagement, reach, breakdown, rule_version, event_id, share_id, redemption_id, "
        "team_ids, hashtags, occurred_at) "
        "SELECT r->>0, r->>1, r->>2, (r->>3)::int, (r->>4)::int, (r->>5)::bigint, r->6, "
        "(r->>7)::int, r->>8, r->>9, (r->>10)::bigint, (r->>11)::text[], (r->>12)::text[], "
        "(r->>13)::timestamptz FROM jsonb_array_elements($1::text::jsonb) AS r), "
        "progress AS (INSERT INTO share_progress "
        "(tenant_id, share_id, advocate_id, sequence, counts, paid) "
        "SELECT r->>0, r->>1, r->>2, (r->>3)::bigint, (r->>4)::bigint[], (r->>5)::bigint[] "
        "FROM jsonb_array_elements($2::text::jsonb) AS r "
        "ON CONFLICT (tenant_id, share_id) DO UPDATE SET sequence = excluded.sequence, "
        "counts = excluded.counts, paid = excluded.paid), "
        "caps AS (INSERT INTO cap_days (tenant_id, advocate_id, day, granted) "
        "SELECT r->>0, r->>1, (r->>2)::int, (r->>3)::int[] "
        "FROM jsonb_array_elements($3::text::jsonb) AS r "
        "ON CONFLICT (tenant_id, advocate_id, day) DO UPDATE SET granted = excluded.granted), "
        "accounts AS (UPDATE accounts a SET balance = a.balance + (r->>2)::bigint, "
        "earned = a.earned + (r->>3)::bigint, shares = (r->>4)::int, "
        "streak_week = (r->>5)::int, streak_weeks = (r->>6)::int "
        "FROM jsonb_array_elements($4::text::jsonb) AS r "
        "WHERE a.tenant_id = r->>0 AND a.advocate_id = r->>1), "
        "badges AS (INSERT INTO badges (tenant_id, advocate_id, badge, cause) "
        "SELECT r->>0, r->>1, r->>2, r->>3 FROM jsonb_array_elements($5::text::jsonb) AS r "
        "ON CONFLICT DO NOTHING) "
        "SELECT 1",
        rows(
            (
                e.tenant_id,
                e.advocate_id,
                e.kind,  # orjson writes an enum as its value
                e.points,
                e.engagement,
                e.reach,
                e.breakdown,
                e.rule_version,
                e.event_id,
                e.share_id,
                e.redemption_id,
                text_array_of(e.team_ids),
                text_array_of(e.hashtags),
                e.occurred_at,
            )
            for e in entries
        ),
        rows(
            (
                p.tenant_id,
                p.share_id,
                p.advocate_id,
                p.sequence,
                int_array(p.counts),
                int_array(p.paid),
            )
            for p in progress
        ),
        rows(cap_days(caps)),
        rows(
            (
                a.tenant_id,
                a.advocate_id,
                a.balance_delta,
                a.earned_delta,
                a.shares,
                a.streak_week,
                a.streak_weeks,
            )
            for a in accounts
        ),
        rows(list(badges)),
    )
