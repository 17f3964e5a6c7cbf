"""Standings rows, the ledger aggregates of late board cells, and the ledger stream."""

from __future__ import annotations

import struct
from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import datetime
from typing import Any

import asyncpg
from chorus_platform.packed import rows

from chorus_rewards.accrual import EARNING_KINDS
from chorus_rewards.standings import SLOTS, Standing, to_ms

StandingKey = tuple[str, str, str]
_EARNING = [k.value for k in EARNING_KINDS]


_ROW = struct.Struct(f">3i{2 * SLOTS}q")
"""buckets || vals || reached: one value per row each way, split or joined by Postgres.
`save` sends the rows' values end to end as ONE bytea (row i at byte i * 204), next to
their keys as JSON rows (see `packed`): no per-row encoding on the client at all."""
_VALS = slice(3, 3 + SLOTS)
_REACHED = slice(3 + SLOTS, 3 + 2 * SLOTS)
assert _ROW.size == 204  # the byte offsets written out in `save`


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
    m, w, d = row.buckets
    if m is None or w is None or d is None:
        m, w, d = (-1 if b is None else b for b in row.buckets)
    return _ROW.pack(m, w, d, *row.values, *row.reached)


async def load(
    conn: asyncpg.Connection, keys: Iterable[StandingKey]
) -> dict[StandingKey, Standing]:
    loaded = await conn.fetch(
        "SELECT s.tenant_id, s.advocate_id, s.scope, s.buckets || s.vals || s.reached AS packed "
        "FROM standings s JOIN jsonb_array_elements($1::text::jsonb) AS r "
        "ON s.tenant_id = r->>0 AND s.advocate_id = r->>1 AND s.scope = r->>2",
        rows(list(set(keys))),  # unsorted: a read, and sorting cost ~2 µs per event
    )
    found = (_unpack(r) for r in loaded)
    return {(st.tenant_id, st.advocate_id, st.scope): st for st in found}


_SAVE_CHUNK = 20_000
"""Rows per statement: a rebuild saves a whole tenant, and one JSON value must stay well
below Postgres's limits (jsonb: 256 MB)."""


async def save(conn: asyncpg.Connection, standings: Sequence[Standing]) -> None:
    for i in range(0, len(standings), _SAVE_CHUNK):
        chunk = standings[i : i + _SAVE_CHUNK]
        await conn.execute(
            "INSERT INTO standings (tenant_id, advocate_id, scope, buckets, vals, reached) "
            "SELECT r->>0, r->>1, r->>2, substr($2::bytea, at, 12), "
            "substr($2::bytea, at + 12, 96), substr($2::bytea, at + 108, 96) "
            "FROM jsonb_array_elements($1::text::jsonb) WITH ORDINALITY AS u(r, o), "
            "LATERAL (SELECT (o::int - 1) * 204 + 1 AS at) AS x "
            "ON CONFLICT (tenant_id, advocate_id, scope) DO UPDATE SET "
            "buckets = excluded.buckets, vals = excluded.vals, reached = excluded.reached",
            rows([(st.tenant_id, st.advocate_id, st.scope) for st in chunk]),
            b"".join([_pack(st) for st in chunk]),
        )


async def replace_tenant(
    conn: asyncpg.Connection, tenant_id: str, rows: Sequence[Standing]
) -> None:
    await conn.execute("DELETE FROM standings WHERE tenant_id = $1", tenant_id)
    await save(conn, rows)


async def tenant_rows(conn: asyncpg.Connection, tenant_id: str) -> list[Standing]:
    found = await conn.fetch(
        "SELECT tenant_id, advocate_id, scope, buckets || vals || reached AS packed "
        "FROM standings WHERE tenant_id = $1",
        tenant_id,
    )
    return [_unpack(r) for r in found]


CellAggregate = tuple[tuple[int, int | None], tuple[int, int | None], tuple[int, int | None]]
"""(value, reach time in epoch ms or None when no entry changed it) per metric."""


LateCell = tuple[str, str, str, datetime, datetime]
"""(tenant, advocate, scope, start, end) of a late bucket's cell."""


async def aggregate_cells(
    conn: asyncpg.Connection, cells: Sequence[LateCell]
) -> list[CellAggregate]:
    """Sum the earning entries of each cell (one advocate, one scope, a time range: a late
    bucket), in `cells`' order. One statement for all: a batch reads two topics, so an
    advocate's events of an older bucket come after newer ones now and then (~14% of the
    bench's events), and one round trip per cell cost more than the sums."""
    if not cells:
        return []
    found = await conn.fetch(
        "SELECT a.p, a.pa, a.e, a.ea, a.r, a.ra "
        "FROM jsonb_array_elements($1::text::jsonb) WITH ORDINALITY AS c(v, i) "
        "CROSS JOIN LATERAL ("
        " SELECT coalesce(sum(points), 0)::bigint AS p, "
        "  max(occurred_at) FILTER (WHERE points <> 0) AS pa, "
        "  coalesce(sum(engagement), 0)::bigint AS e, "
        "  max(occurred_at) FILTER (WHERE engagement <> 0) AS ea, "
        "  coalesce(sum(reach), 0)::bigint AS r, "
        "  max(occurred_at) FILTER (WHERE reach <> 0) AS ra "
        " FROM ledger WHERE tenant_id = c.v->>0 AND advocate_id = c.v->>1 "
        " AND kind = ANY($2::text[]) AND occurred_at >= (c.v->>4)::timestamptz "
        " AND occurred_at < (c.v->>5)::timestamptz AND CASE c.v->>2 "
        " WHEN 'team' THEN c.v->>3 = ANY(team_ids) WHEN 'tag' THEN c.v->>3 = ANY(hashtags) "
        " ELSE true END) AS a "
        "ORDER BY c.i",
        rows(
            (tenant_id, advocate_id, *scope.partition(":")[::2], start, end)
            for tenant_id, advocate_id, scope, start, end in cells
        ),
        _EARNING,
    )

    def at(value: datetime | None) -> int | None:
        return None if value is None else to_ms(value)

    return [((r["p"], at(r["pa"])), (r["e"], at(r["ea"])), (r["r"], at(r["ra"]))) for r in found]


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
