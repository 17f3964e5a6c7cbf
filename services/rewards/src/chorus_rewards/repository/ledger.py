"""SQL of the ledger consumer: advocate locks, shares, share progress, caps, ledger, accounts.

Locking rule: every transaction that writes an advocate's rows (ledger, account,
share progress, caps, standings) first locks the advocate's `accounts` row,
in sorted order across advocates. One advocate's events come in on two topics
whose partitions may be owned by different consumer instances, and a redemption
can run at the same time; the row lock serialises all of them, so the
read-modify-write of the state below is safe without further locks.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg

from chorus_rewards.accrual import CapKey, LedgerEntry, ShareProgress
from chorus_rewards.repository.arrays import int_array, text_array

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
    """Create missing accounts, lock all of them in key order, return their share stats."""
    keys = sorted(set(advocates))
    tenants, ids = [k[0] for k in keys], [k[1] for k in keys]
    await conn.execute(
        "INSERT INTO accounts (tenant_id, advocate_id) "
        "SELECT * FROM unnest($1::text[], $2::text[]) ON CONFLICT DO NOTHING",
        tenants,
        ids,
    )
    rows = await conn.fetch(
        "SELECT a.tenant_id, a.advocate_id, a.shares, a.streak_week, a.streak_weeks "
        "FROM accounts a JOIN unnest($1::text[], $2::text[]) AS k(t, v) "
        "ON a.tenant_id = k.t AND a.advocate_id = k.v "
        "ORDER BY a.tenant_id, a.advocate_id FOR UPDATE OF a",
        tenants,
        ids,
    )
    return {
        (r["tenant_id"], r["advocate_id"]): AccountRow(
            r["tenant_id"], r["advocate_id"], r["shares"], r["streak_week"], r["streak_weeks"]
        )
        for r in rows
    }


async def update_accounts(conn: asyncpg.Connection, accounts: Sequence[AccountRow]) -> None:
    if not accounts:
        return
    await conn.execute(
        "UPDATE accounts a SET balance = a.balance + u.b, earned = a.earned + u.e, "
        "shares = u.s, streak_week = u.w, streak_weeks = u.n "
        "FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::int[], "
        "$6::int[], $7::int[]) AS u(t, v, b, e, s, w, n) "
        "WHERE a.tenant_id = u.t AND a.advocate_id = u.v",
        [a.tenant_id for a in accounts],
        [a.advocate_id for a in accounts],
        [a.balance_delta for a in accounts],
        [a.earned_delta for a in accounts],
        [a.shares for a in accounts],
        [a.streak_week for a in accounts],
        [a.streak_weeks for a in accounts],
    )


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
    rows = await conn.fetch(
        "INSERT INTO shares (tenant_id, share_id, advocate_id, network, rewardable, team_ids, "
        "hashtags, posted_at, event_id) "
        "SELECT t, s, a, n, r, tm::text[], h::text[], p, e FROM unnest($1::text[], $2::text[], "
        "$3::text[], $4::text[], $5::bool[], $6::text[], $7::text[], $8::timestamptz[], "
        "$9::text[]) AS u(t, s, a, n, r, tm, h, p, e) "
        "ON CONFLICT DO NOTHING RETURNING tenant_id, share_id",
        [s.tenant_id for s in shares],
        [s.share_id for s in shares],
        [s.advocate_id for s in shares],
        [s.network for s in shares],
        [s.rewardable for s in shares],
        [text_array(s.team_ids) for s in shares],
        [text_array(s.hashtags) for s in shares],
        [s.posted_at for s in shares],
        [s.event_id for s in shares],
    )
    return {(r["tenant_id"], r["share_id"]) for r in rows}


async def load_progress(
    conn: asyncpg.Connection, keys: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], ShareProgress]:
    keys = sorted(set(keys))
    rows = await conn.fetch(
        "SELECT p.tenant_id, p.share_id, p.advocate_id, p.sequence, p.counts, p.paid "
        "FROM share_progress p JOIN unnest($1::text[], $2::text[]) AS k(t, s) "
        "ON p.tenant_id = k.t AND p.share_id = k.s",
        [k[0] for k in keys],
        [k[1] for k in keys],
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
        for r in rows
    }


async def save_progress(conn: asyncpg.Connection, progress: Sequence[ShareProgress]) -> None:
    if not progress:
        return
    await conn.execute(
        "INSERT INTO share_progress (tenant_id, share_id, advocate_id, sequence, counts, paid) "
        "SELECT t, s, a, q, c::bigint[], p::bigint[] FROM unnest($1::text[], $2::text[], "
        "$3::text[], $4::bigint[], $5::text[], $6::text[]) AS u(t, s, a, q, c, p) "
        "ON CONFLICT (tenant_id, share_id) DO UPDATE SET sequence = excluded.sequence, "
        "counts = excluded.counts, paid = excluded.paid",
        [p.tenant_id for p in progress],
        [p.share_id for p in progress],
        [p.advocate_id for p in progress],
        [p.sequence for p in progress],
        [int_array(p.counts) for p in progress],
        [int_array(p.paid) for p in progress],
    )


async def load_caps(conn: asyncpg.Connection, keys: Iterable[CapKey]) -> dict[CapKey, int]:
    """Cap usage of `keys`, asked for as (tenant, advocate, day) x actions: an engagement
    event needs every action of its day, so this sends about a fifth of the array elements
    (asyncpg checks each one); Postgres forms the full keys, and the rows of pairs nobody
    asked for (an action of a share's day) are dropped here."""
    wanted = set(keys)
    days = sorted({(k[0], k[1], k[3]) for k in wanted})
    rows = await conn.fetch(
        "SELECT c.tenant_id, c.advocate_id, c.action, c.day, c.granted FROM cap_usage c "
        "JOIN (unnest($1::text[], $2::text[], $3::int[]) AS k(t, v, d) "
        "CROSS JOIN unnest($4::text[]) AS a(a)) "
        "ON c.tenant_id = k.t AND c.advocate_id = k.v AND c.action = a.a AND c.day = k.d",
        [d[0] for d in days],
        [d[1] for d in days],
        [d[2] for d in days],
        sorted({k[2] for k in wanted}),
    )
    found = ((r["tenant_id"], r["advocate_id"], r["action"], r["day"], r["granted"]) for r in rows)
    return {(t, v, a, d): g for t, v, a, d, g in found if (t, v, a, d) in wanted}


async def save_caps(conn: asyncpg.Connection, usage: dict[CapKey, int]) -> None:
    if not usage:
        return
    keys = sorted(usage)
    await conn.execute(
        "INSERT INTO cap_usage (tenant_id, advocate_id, action, day, granted) "
        "SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::int[]) "
        "ON CONFLICT (tenant_id, advocate_id, action, day) "
        "DO UPDATE SET granted = excluded.granted",
        [k[0] for k in keys],
        [k[1] for k in keys],
        [k[2] for k in keys],
        [k[3] for k in keys],
        [usage[k] for k in keys],
    )


async def insert_entries(conn: asyncpg.Connection, entries: Sequence[LedgerEntry]) -> None:
    """Append entries in one statement (the runner's tracking already deduplicated events)."""
    if not entries:
        return
    await conn.execute(
        "INSERT INTO ledger (tenant_id, advocate_id, kind, points, engagement, reach, breakdown, "
        "rule_version, event_id, share_id, redemption_id, team_ids, hashtags, occurred_at) "
        "SELECT t, v, k, p, e, r, b, rv, ev, s, rd, tm::text[], h::text[], o "
        "FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::int[], $6::bigint[], "
        "$7::jsonb[], $8::int[], $9::text[], $10::text[], $11::bigint[], $12::text[], "
        "$13::text[], $14::timestamptz[]) AS u(t, v, k, p, e, r, b, rv, ev, s, rd, tm, h, o)",
        [e.tenant_id for e in entries],
        [e.advocate_id for e in entries],
        [e.kind.value for e in entries],
        [e.points for e in entries],
        [e.engagement for e in entries],
        [e.reach for e in entries],
        [e.breakdown for e in entries],
        [e.rule_version for e in entries],
        [e.event_id for e in entries],
        [e.share_id for e in entries],
        [e.redemption_id for e in entries],
        [text_array(e.team_ids) for e in entries],
        [text_array(e.hashtags) for e in entries],
        [e.occurred_at for e in entries],
    )
