"""SQL of tracked-link clicks: history for the judge, inserts, verdict updates."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

import asyncpg
from chorus_platform import packed

from chorus_metrics.fraud.judge import Click, PastClick, Verdict


async def existing_ids(conn: asyncpg.Connection, tenant: str, ids: Sequence[UUID]) -> set[UUID]:
    rows = await conn.fetch(
        "SELECT click_id FROM clicks WHERE tenant_id = $1 AND click_id = ANY($2::uuid[])",
        tenant,
        list(ids),
    )
    return {r["click_id"] for r in rows}


async def advocate_visitors(
    conn: asyncpg.Connection, tenant: str, visitor_hashes: Sequence[str]
) -> set[tuple[str, str]]:
    rows = await conn.fetch(
        "SELECT advocate_id, visitor_hash FROM advocate_fingerprints "
        "WHERE tenant_id = $1 AND visitor_hash = ANY($2::text[])",
        tenant,
        list(set(visitor_hashes)),
    )
    return {(r["advocate_id"], r["visitor_hash"]) for r in rows}


async def visitor_history(
    conn: asyncpg.Connection,
    tenant: str,
    probes: Sequence[tuple[str, str, datetime, datetime]],
) -> list[PastClick]:
    """Valid clicks per (share, visitor) within (from, to).

    Each probe is one lookup on `clicks_visitor` by (tenant, share, visitor); the window
    is a filter on the few rows found. Written as plain ranges, the window made
    `clicks_time` (tenant, occurred_at) a candidate too, and with statistics older than
    the table's growth (a new table, a burst) both estimates bottomed out at one row and
    the smaller index won: every probe scanned the tenant's whole window (seconds a
    batch at 100k clicks). Driving from the probes (LATERAL, OFFSET 0 keeps it per
    row) keeps one lookup per probe whatever the join estimates say.
    """
    if not probes:
        return []
    rows = await conn.fetch(
        "SELECT c.click_id, c.share_id, c.occurred_at, c.visitor_hash, c.ip_prefix "
        "FROM jsonb_array_elements($2::text::jsonb) AS r CROSS JOIN LATERAL ("
        "  SELECT * FROM clicks c WHERE c.tenant_id = $1 AND c.share_id = r->>0 "
        "  AND c.visitor_hash = r->>1 AND c.occurred_at - (r->>2)::timestamptz > interval '0' "
        "  AND (r->>3)::timestamptz - c.occurred_at > interval '0' AND c.status = 'valid' "
        "  OFFSET 0) AS c",
        tenant,
        packed.rows(probes),
    )
    return [
        PastClick(
            r["click_id"], r["share_id"], r["occurred_at"], r["visitor_hash"], r["ip_prefix"], True
        )
        for r in rows
    ]


async def prefix_history(
    conn: asyncpg.Connection,
    tenant: str,
    probes: Sequence[tuple[str, str, datetime, datetime]],
) -> list[PastClick]:
    """Judged clicks (valid or rejected) per (share, ip_prefix) within (from, to).

    One lookup on `clicks_prefix` per probe, the window a filter: see `visitor_history`.
    """
    if not probes:
        return []
    rows = await conn.fetch(
        "SELECT c.click_id, c.share_id, c.occurred_at, c.visitor_hash, c.ip_prefix, "
        "  c.status = 'valid' AS valid "
        "FROM jsonb_array_elements($2::text::jsonb) AS r CROSS JOIN LATERAL ("
        "  SELECT * FROM clicks c WHERE c.tenant_id = $1 AND c.share_id = r->>0 "
        "  AND c.ip_prefix = r->>1 AND c.occurred_at - (r->>2)::timestamptz > interval '0' "
        "  AND (r->>3)::timestamptz - c.occurred_at > interval '0' AND c.status <> 'pending' "
        "  OFFSET 0) AS c",
        tenant,
        packed.rows(probes),
    )
    return [
        PastClick(
            r["click_id"],
            r["share_id"],
            r["occurred_at"],
            r["visitor_hash"],
            r["ip_prefix"],
            r["valid"],
        )
        for r in rows
    ]


async def insert(
    conn: asyncpg.Connection,
    tenant: str,
    clicks: Sequence[Click],
    statuses: Sequence[tuple[str, str | None]],
) -> set[UUID]:
    """Insert clicks with (status, reason); return the ids actually inserted (new ones)."""
    if not clicks:
        return set()
    # One packed JSON parameter (chorus_platform.packed): asyncpg would encode eight
    # typed arrays element by element.
    rows = await conn.fetch(
        "INSERT INTO clicks (tenant_id, click_id, share_id, occurred_at, visitor_hash, "
        "  ip_prefix, user_agent, status, reason) "
        "SELECT $1, (r->>0)::uuid, r->>1, (r->>2)::timestamptz, r->>3, r->>4, r->>5, r->>6, "
        "  r->>7 "
        "FROM jsonb_array_elements($2::text::jsonb) AS r "
        "ON CONFLICT (tenant_id, click_id) DO NOTHING RETURNING click_id",
        tenant,
        packed.rows(
            (
                c.click_id,
                c.share_id,
                c.occurred_at,
                c.visitor_hash,
                c.ip_prefix,
                c.user_agent,
                status,
                reason,
            )
            for c, (status, reason) in zip(clicks, statuses, strict=True)
        ),
    )
    return {r["click_id"] for r in rows}


async def pending(
    conn: asyncpg.Connection, tenant: str, share_ids: Sequence[str]
) -> list[asyncpg.Record]:
    return list(
        await conn.fetch(
            "SELECT click_id, share_id, occurred_at, visitor_hash, ip_prefix, user_agent "
            "FROM clicks WHERE tenant_id = $1 AND share_id = ANY($2::text[]) "
            "AND status = 'pending'",
            tenant,
            list(share_ids),
        )
    )


async def set_verdicts(conn: asyncpg.Connection, tenant: str, verdicts: Sequence[Verdict]) -> None:
    """Judge held (pending) clicks."""
    if not verdicts:
        return
    await conn.execute(
        "UPDATE clicks c SET status = CASE WHEN v.reason IS NULL THEN 'valid' ELSE 'rejected' END,"
        " reason = v.reason "
        "FROM unnest($2::uuid[], $3::text[]) AS v(click_id, reason) "
        "WHERE c.tenant_id = $1 AND c.click_id = v.click_id AND c.status = 'pending'",
        tenant,
        [v.click_id for v in verdicts],
        [v.reason.value if v.reason else None for v in verdicts],
    )


async def revoke(
    conn: asyncpg.Connection, tenant: str, ids: Sequence[UUID], reason: str
) -> list[str]:
    """Turn valid clicks into rejected ones (late verdict); return their share ids."""
    if not ids:
        return []
    rows = await conn.fetch(
        "UPDATE clicks SET status = 'rejected', reason = $3, corrected_at = clock_timestamp() "
        "WHERE tenant_id = $1 AND click_id = ANY($2::uuid[]) AND status = 'valid' "
        "RETURNING share_id",
        tenant,
        list(ids),
        reason,
    )
    return [r["share_id"] for r in rows]
