"""SQL of the batch API: receipts of accepted observations."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg


async def add_receipts(
    conn: asyncpg.Connection,
    tenant: str,
    keys: Sequence[tuple[str, str]],
    event_ids: Sequence[str],
) -> set[tuple[str, str]]:
    """Record receipts; return the keys that were new (the rest were accepted before)."""
    if not keys:
        return set()
    rows = await conn.fetch(
        "INSERT INTO reported_receipts (tenant_id, source, source_event_id, event_id) "
        "SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[]) "
        "ON CONFLICT DO NOTHING RETURNING source, source_event_id",
        tenant,
        [k[0] for k in keys],
        [k[1] for k in keys],
        list(event_ids),
    )
    return {(r["source"], r["source_event_id"]) for r in rows}
