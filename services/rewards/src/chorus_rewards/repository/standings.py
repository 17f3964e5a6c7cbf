"""Standings rows, the ledger aggregate of one late board cell, and the ledger stream."""

from __future__ import annotations

import struct
from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import datetime
from typing import Any

import asyncpg

from chorus_rewards.accrual import EARNING_KINDS
from chorus_rewards.standings import SLOTS, Standing, to_ms

StandingKey = tuple[str, str, str]
_EARNING = [k.value for k in EARNING_KINDS]


_ROW = struct.Struct(f">3i{2 * SLOTS}q")
"""buckets || vals || reached: one value per row each way, split or joined by Postgres
(three columns cost three array elements per row for asyncpg to check and encode)."""
_VALS = slice(3, 3 + SLOTS)
_REACHED = slice(3 + SLOTS, 3 + 2 * SLOTS)
assert _ROW.size == 12 + 2 * 96  # the byte offsets written out in `save`


def _unpack(row: Any) -> Standing:
    fields = _ROW.unpack(row["packed"])
    m, w, d = fields[0], fields[1], fields[2]
    return Standing(
        row["tenant_id"],
        row["advocate_id"],
        row["scope"],
        [None if m < 0 else m, None if w < 0 else w, None if d < 0 else d],
        list(fields[_VALS]),
        list(fields[_REACHED]),
    )


def _pack(row: Standing) -> bytes:
    m, w, d = (-1 if b is None else b for b in row.buckets)
    return _ROW.pack(m, w, d, *row.values, *row.reached)


async def load(
    conn: asyncpg.Connection, keys: Iterable[StandingKey]
) -> dict[StandingKey, Standing]:
    keys = sorted(set(keys))
    rows = await conn.fetch(
        "SELECT s.tenant_id, s.advocate_id, s.scope, s.buckets || s.vals || s.reached AS packed "
        "FROM standings s JOIN unnest($1::text[], $2::text[], $3::text[]) AS k(t, v, s) "
        "ON s.tenant_id = k.t AND s.advocate_id = k.v AND s.scope = k.s",
        [k[0] for k in keys],
        [k[1] for k in keys],
        [k[2] for k in keys],
    )
    found = (_unpack(r) for r in rows)
    return {(st.tenant_id, st.advocate_id, st.scope): st for st in found}


async def save(conn: asyncpg.Connection, rows: Sequence[Standing]) -> None:
    if not rows:
        return
    await conn.execute(
        "INSERT INTO standings (tenant_id, advocate_id, scope, buckets, vals, reached) "
        "SELECT t, v, s, substr(p, 1, 12), substr(p, 13, 96), substr(p, 109, 96) "
        "FROM unnest($1::text[], $2::text[], $3::text[], $4::bytea[]) AS u(t, v, s, p) "
        "ON CONFLICT (tenant_id, advocate_id, scope) DO UPDATE SET "
        "buckets = excluded.buckets, vals = excluded.vals, reached = excluded.reached",
        [r.tenant_id for r in rows],
        [r.advocate_id for r in rows],
        [r.scope for r in rows],
        [_pack(r) for r in rows],
    )


async def replace_tenant(
    conn: asyncpg.Connection, tenant_id: str, rows: Sequence[Standing]
) -> None:
    await conn.execute("DELETE FROM standings WHERE tenant_id = $1", tenant_id)
    await save(conn, rows)


async def tenant_rows(conn: asyncpg.Connection, tenant_id: str) -> list[Standing]:
    rows = await conn.fetch(
        "SELECT tenant_id, advocate_id, scope, buckets || vals || reached AS packed "
        "FROM standings WHERE tenant_id = $1",
        tenant_id,
    )
    return [_unpack(r) for r in rows]


CellAggregate = tuple[tuple[int, int | None], tuple[int, int | None], tuple[int, int | None]]
"""(value, reach time in epoch ms or None when no entry changed it) per metric."""


async def aggregate_cell(
    conn: asyncpg.Connection,
    tenant_id: str,
    advocate_id: str,
    scope: str,
    start: datetime,
    end: datetime,
) -> CellAggregate:
    """Sum the earning entries of one advocate in one scope and time range (a late bucket)."""
    kind, _, scope_id = scope.partition(":")
    row = await conn.fetchrow(
        "SELECT coalesce(sum(points), 0)::bigint AS p, "
        "max(occurred_at) FILTER (WHERE points <> 0) AS pa, "
        "coalesce(sum(engagement), 0)::bigint AS e, "
        "max(occurred_at) FILTER (WHERE engagement <> 0) AS ea, "
        "coalesce(sum(reach), 0)::bigint AS r, max(occurred_at) FILTER (WHERE reach <> 0) AS ra "
        "FROM ledger WHERE tenant_id = $1 AND advocate_id = $2 AND kind = ANY($3::text[]) "
        "AND occurred_at >= $4 AND occurred_at < $5 AND CASE $6 "
        "WHEN 'team' THEN $7 = ANY(team_ids) WHEN 'tag' THEN $7 = ANY(hashtags) ELSE true END",
        tenant_id,
        advocate_id,
        _EARNING,
        start,
        end,
        kind,
        scope_id,
    )
    assert row is not None

    def at(value: datetime | None) -> int | None:
        return None if value is None else to_ms(value)

    return ((row["p"], at(row["pa"])), (row["e"], at(row["ea"])), (row["r"], at(row["ra"])))


async def earning_entries(conn: asyncpg.Connection, tenant_id: str) -> AsyncIterator[Any]:
    """Every earning entry of the tenant in ledger order (a server-side cursor; needs a
    transaction)."""
    async for row in conn.cursor(
        "SELECT advocate_id, points, engagement, reach, team_ids, hashtags, occurred_at "
        "FROM ledger WHERE tenant_id = $1 AND kind = ANY($2::text[]) ORDER BY id",
        tenant_id,
        _EARNING,
        prefetch=5000,
    ):
        yield row


async def tenants_with_activity(db: Any) -> list[str]:
    rows = await db.fetch("SELECT DISTINCT tenant_id FROM accounts ORDER BY tenant_id")
    return [r["tenant_id"] for r in rows]
