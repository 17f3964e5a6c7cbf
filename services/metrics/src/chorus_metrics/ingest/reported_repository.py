"""SQL of network-reported engagement: rows, running totals, post references."""

from __future__ import annotations

import json
from collections.abc import Sequence

import asyncpg

from chorus_metrics.ingest.reported_rules import Outcome, ReportedItem, RunningTotal, TotalKey


def item_of(row: asyncpg.Record) -> ReportedItem:
    return ReportedItem(
        source=row["source"],
        source_event_id=row["source_event_id"],
        share_id=row["share_id"],
        network=row["network"],
        network_post_ref=row["network_post_ref"],
        kind=row["kind"],
        count=row["count"],
        cumulative=row["cumulative"],
        comment_text=row["comment_text"],
        occurred_at=row["occurred_at"],
    )


async def existing(
    conn: asyncpg.Connection, tenant: str, keys: Sequence[tuple[str, str]]
) -> set[tuple[str, str]]:
    rows = await conn.fetch(
        "SELECT r.source, r.source_event_id FROM reported r "
        "JOIN unnest($2::text[], $3::text[]) AS k(source, seid) "
        "ON r.tenant_id = $1 AND r.source = k.source AND r.source_event_id = k.seid",
        tenant,
        [k[0] for k in keys],
        [k[1] for k in keys],
    )
    return {(r["source"], r["source_event_id"]) for r in rows}


async def resolve_post_refs(
    conn: asyncpg.Connection, tenant: str, refs: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], str]:
    """(network, post_ref) -> share_id for the refs registered so far."""
    if not refs:
        return {}
    rows = await conn.fetch(
        "SELECT p.network, p.post_ref, p.share_id FROM share_post_refs p "
        "JOIN unnest($2::text[], $3::text[]) AS k(network, ref) "
        "ON p.tenant_id = $1 AND p.network = k.network AND p.post_ref = k.ref",
        tenant,
        [r[0] for r in refs],
        [r[1] for r in refs],
    )
    return {(r["network"], r["post_ref"]): r["share_id"] for r in rows}


async def running_totals(
    conn: asyncpg.Connection, tenant: str, keys: Sequence[TotalKey]
) -> dict[TotalKey, RunningTotal]:
    if not keys:
        return {}
    rows = await conn.fetch(
        "SELECT c.source, c.share_id, c.kind, c.value, c.observed_at FROM reported_cumulative c "
        "JOIN unnest($2::text[], $3::text[], $4::text[]) AS k(source, share_id, kind) "
        "ON c.tenant_id = $1 AND c.source = k.source AND c.share_id = k.share_id "
        "AND c.kind = k.kind",
        tenant,
        [k[0] for k in keys],
        [k[1] for k in keys],
        [k[2] for k in keys],
    )
    return {
        (r["source"], r["share_id"], r["kind"]): RunningTotal(r["value"], r["observed_at"])
        for r in rows
    }


async def save_running_totals(
    conn: asyncpg.Connection, tenant: str, totals: dict[TotalKey, RunningTotal]
) -> None:
    if not totals:
        return
    items = sorted(totals.items())
    await conn.execute(
        "INSERT INTO reported_cumulative (tenant_id, source, share_id, kind, value, observed_at) "
        "SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::bigint[], "
        "  $6::timestamptz[]) "
        "ON CONFLICT (tenant_id, source, share_id, kind) DO UPDATE "
        "SET value = excluded.value, observed_at = excluded.observed_at",
        tenant,
        [k[0] for k, _ in items],
        [k[1] for k, _ in items],
        [k[2] for k, _ in items],
        [t.value for _, t in items],
        [t.observed_at for _, t in items],
    )


def _outcome_columns(outcomes: Sequence[Outcome]) -> list[list[object]]:
    return [
        [o.share_id for o in outcomes],
        [o.status for o in outcomes],
        [o.reason for o in outcomes],
        [o.applied for o in outcomes],
        [o.text.language for o in outcomes],
        [o.text.sentiment_score for o in outcomes],
        [o.text.sentiment_label for o in outcomes],
        [json.dumps(list(o.text.hashtags)) for o in outcomes],
    ]


async def insert(
    conn: asyncpg.Connection, tenant: str, outcomes: Sequence[Outcome]
) -> set[tuple[str, str]]:
    """Insert new observations with their outcome; return the keys actually inserted."""
    if not outcomes:
        return set()
    items = [o.item for o in outcomes]
    rows = await conn.fetch(
        "INSERT INTO reported (tenant_id, source, source_event_id, share_id, network, "
        " network_post_ref, kind, count, cumulative, comment_text, occurred_at, status, reason,"
        " applied, language, "
        " sentiment_score, sentiment_label, hashtags) "
        "SELECT $1, i.source, i.seid, o.share_id, i.network, i.ref, i.kind, i.count, i.cumulative,"
        " i.comment_text, i.occurred_at, o.status, o.reason, o.applied, o.language, o.score,"
        " o.label, coalesce((SELECT array_agg(t) FROM jsonb_array_elements_text(o.tags::jsonb) t),"
        " '{}') "
        "FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[], "
        "  $8::boolean[], $9::text[], $10::timestamptz[]) WITH ORDINALITY "
        "  AS i(source, seid, network, ref, kind, count, cumulative, comment_text, occurred_at, n) "
        "JOIN unnest($11::text[], $12::text[], $13::text[], $14::bigint[], $15::text[], "
        "  $16::float8[], $17::text[], $18::text[]) WITH ORDINALITY "
        "  AS o(share_id, status, reason, applied, language, score, label, tags, n) USING (n) "
        "ON CONFLICT (tenant_id, source, source_event_id) DO NOTHING "
        "RETURNING source, source_event_id",
        tenant,
        [i.source for i in items],
        [i.source_event_id for i in items],
        [i.network for i in items],
        [i.network_post_ref for i in items],
        [i.kind for i in items],
        [i.count for i in items],
        [i.cumulative for i in items],
        [i.comment_text for i in items],
        [i.occurred_at for i in items],
        *_outcome_columns(outcomes),
    )
    return {(r["source"], r["source_event_id"]) for r in rows}


async def pending_for_shares(
    conn: asyncpg.Connection, tenant: str, share_ids: Sequence[str]
) -> list[ReportedItem]:
    rows = await conn.fetch(
        "SELECT source, source_event_id, share_id, network, network_post_ref, kind, count, "
        "cumulative, comment_text, occurred_at FROM reported "
        "WHERE tenant_id = $1 AND share_id = ANY($2::text[]) "
        "AND status = 'pending'",
        tenant,
        list(share_ids),
    )
    return [item_of(r) for r in rows]


async def pending_for_ref(
    conn: asyncpg.Connection, tenant: str, network: str, post_ref: str
) -> list[ReportedItem]:
    rows = await conn.fetch(
        "SELECT source, source_event_id, share_id, network, network_post_ref, kind, count, "
        "cumulative, comment_text, occurred_at FROM reported WHERE tenant_id = $1 AND network = $2 "
        "AND network_post_ref = $3 AND share_id IS NULL AND status = 'pending'",
        tenant,
        network,
        post_ref,
    )
    return [item_of(r) for r in rows]


async def update(conn: asyncpg.Connection, tenant: str, outcomes: Sequence[Outcome]) -> None:
    """Record the outcome of held observations now matched to their share."""
    if not outcomes:
        return
    await conn.execute(
        "UPDATE reported r SET share_id = o.share_id, status = o.status, reason = o.reason, "
        " applied = o.applied "
        "FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[]) "
        "  AS o(source, seid, share_id, status, reason, applied) "
        "WHERE r.tenant_id = $1 AND r.source = o.source AND r.source_event_id = o.seid "
        "AND r.status = 'pending'",
        tenant,
        [o.item.source for o in outcomes],
        [o.item.source_event_id for o in outcomes],
        [o.share_id for o in outcomes],
        [o.status for o in outcomes],
        [o.reason for o in outcomes],
        [o.applied for o in outcomes],
    )


async def register_post_ref(
    conn: asyncpg.Connection, tenant: str, share_id: str, network: str, post_ref: str
) -> None:
    await conn.execute(
        "INSERT INTO share_post_refs (tenant_id, network, post_ref, share_id) "
        "VALUES ($1, $2, $3, $4) ON CONFLICT (tenant_id, share_id, network) "
        "DO UPDATE SET post_ref = excluded.post_ref",
        tenant,
        network,
        post_ref,
        share_id,
    )


async def post_refs(conn: asyncpg.Connection, network: str) -> list[tuple[str, str, str]]:
    """Every registered post of `network`: (tenant_id, share_id, post_ref), for connectors."""
    rows = await conn.fetch(
        "SELECT tenant_id, share_id, post_ref FROM share_post_refs WHERE network = $1 "
        "ORDER BY tenant_id, share_id",
        network,
    )
    return [(r["tenant_id"], r["share_id"], r["post_ref"]) for r in rows]
