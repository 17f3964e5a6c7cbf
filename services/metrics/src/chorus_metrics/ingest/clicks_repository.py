"""SQL of tracked-link clicks: history for the judge, inserts, verdict updates."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Final
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
    """Valid clicks per (share, visitor) within (from, to): one `clicks_visitor` range each."""
    return await _history(conn, tenant, probes, _VISITOR_PROBE)


async def prefix_history(
    conn: asyncpg.Connection,
    tenant: str,
    probes: Sequence[tuple[str, str, datetime, datetime]],
) -> list[PastClick]:
    """Judged clicks (valid or rejected) per (share, ip_prefix) within (from, to): one
    `clicks_prefix` range each."""
    return await _history(conn, tenant, probes, _PREFIX_PROBE)


# (probed column, status filter): the only two shapes `_history` is built with.
_VISITOR_PROBE: Final = ("visitor_hash", "c.status = 'valid'")
_PREFIX_PROBE: Final = ("ip_prefix", "c.status <> 'pending'")


async def _history(
    conn: asyncpg.Connection,
    tenant: str,
    probes: Sequence[tuple[str, str, datetime, datetime]],
    probe: tuple[str, str],
) -> list[PastClick]:
    """Clicks per (share, probed column's value) within (from, to), matching the
    probe's status filter, each one range of the `(tenant, share, column, occurred_at)`
    index.

    The statement is shaped so the planner picks that index whatever its statistics
    say. Statistics lag a fast-growing table (a new deployment, a burst) and always
    miss a share gone viral since the last ANALYZE; every candidate index is then
    estimated at one row, and ties went to the wrong one: `clicks_time` (tenant,
    occurred_at), reading the tenant's whole window per probe, or for the prefix
    probe `clicks_visitor`, reading every click of the share (seconds per batch at
    100k clicks). So each probe drives its own lookup (LATERAL; OFFSET 0 keeps it
    per row), asks for the order of the index it should use (which breaks ties),
    and bounds the range from below only: a one-sided range is estimated at a third
    of the tenant's rows, which keeps `clicks_time` out, while the wanted index
    still starts at `from`; the upper bound is a filter (clicks later than a batch's
    are rare). `test_click_history_plans.py` checks the plans on a never-analysed
    table and on one grown on shares its statistics have not seen.
    """
    if not probes:
        return []
    column, status = probe
    # Column and filter are the constants above, never input.
    sql = (
        "SELECT c.click_id, c.share_id, c.occurred_at, c.visitor_hash, c.ip_prefix, "  # noqa: S608
        "  c.status = 'valid' AS valid "
        "FROM jsonb_array_elements($2::text::jsonb) AS r CROSS JOIN LATERAL ("
        "  SELECT * FROM clicks c WHERE c.tenant_id = $1 AND c.share_id = r->>0 "
        f"  AND c.{column} = r->>1 AND c.occurred_at > (r->>2)::timestamptz "
        f"  AND (r->>3)::timestamptz - c.occurred_at > interval '0' AND {status} "
        f"  ORDER BY c.{column}, c.occurred_at OFFSET 0) AS c"
    )
    rows = await conn.fetch(
        sql,
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
