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
    keys = rows(sorted(set(advocates)))
    await conn.execute(
        "INSERT INTO accounts (tenant_id, advocate_id) SELECT r->>0, r->>1 FROM "
        "jsonb_array_elements($1::text::jsonb) AS r "
        "ON CONFLICT DO NOTHING",
        keys,
    )
    found = await conn.fetch(
        "SELECT a.tenant_id, a.advocate_id, a.shares, a.streak_week, a.streak_weeks "
        "FROM accounts a JOIN jsonb_array_elements($1::text::jsonb) AS r "
        "ON a.tenant_id = r->>0 AND a.advocate_id = r->>1 "
        "ORDER BY a.tenant_id, a.advocate_id FOR UPDATE OF a",
        keys,
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
                text_array(s.team_ids),
                text_array(s.hashtags),
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
        rows(sorted(set(keys))),
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
    """Cap usage of `keys`, asked for as (tenant, advocate, day) x actions: an engagement
    event needs every action of its day, so this sends about a fifth of the keys;
    Postgres forms the full keys, and the rows of pairs nobody asked for (an action of
    a share's day) are dropped here."""
    wanted = set(keys)
    days = sorted({(k[0], k[1], k[3]) for k in wanted})
    loaded = await conn.fetch(
        "SELECT c.tenant_id, c.advocate_id, c.action, c.day, c.granted FROM cap_usage c "
        "JOIN (jsonb_array_elements($1::text::jsonb) AS r "
        "CROSS JOIN unnest($2::text[]) AS a(a)) "
        "ON c.tenant_id = r->>0 AND c.advocate_id = r->>1 AND c.action = a.a "
        "AND c.day = (r->>2)::int",
        rows(days),
        sorted({k[2] for k in wanted}),
    )
    found = (
        (r["tenant_id"], r["advocate_id"], r["action"], r["day"], r["granted"]) for r in loaded
    )
    return {(t, v, a, d): g for t, v, a, d, g in found if (t, v, a, d) in wanted}


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
) -> None:
    """Append ledger entries and write share progress, cap usage and account deltas, in ONE
    statement (data-modifying CTEs on four different tables): one round trip, and the
    consumer folds standings while Postgres executes it (see `board_sync`)."""
    caps = caps or {}
    if not (entries or progress or caps or accounts):
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
        "caps AS (INSERT INTO cap_usage (tenant_id, advocate_id, action, day, granted) "
        "SELECT r->>0, r->>1, r->>2, (r->>3)::int, (r->>4)::int "
        "FROM jsonb_array_elements($3::text::jsonb) AS r "
        "ON CONFLICT (tenant_id, advocate_id, action, day) "
        "DO UPDATE SET granted = excluded.granted), "
        "accounts AS (UPDATE accounts a SET balance = a.balance + (r->>2)::bigint, "
        "earned = a.earned + (r->>3)::bigint, shares = (r->>4)::int, "
        "streak_week = (r->>5)::int, streak_weeks = (r->>6)::int "
        "FROM jsonb_array_elements($4::text::jsonb) AS r "
        "WHERE a.tenant_id = r->>0 AND a.advocate_id = r->>1) "
        "SELECT 1",
        rows(
            (
                e.tenant_id,
                e.advocate_id,
                e.kind.value,
                e.points,
                e.engagement,
                e.reach,
                e.breakdown,
                e.rule_version,
                e.event_id,
                e.share_id,
                e.redemption_id,
                text_array(e.team_ids),
                text_array(e.hashtags),
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
        rows((*k, caps[k]) for k in sorted(caps)),
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
    )
