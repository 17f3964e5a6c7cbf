"""SQL shared by the ingestion steps: share locks, share facts and totals, tenant rules."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import asyncpg
from chorus_platform import packed
from pydantic import ValidationError

from chorus_metrics.fraud.rules import FraudRules
from chorus_metrics.ingest.model import Changes, ShareFacts, ShareKey


def _split(keys: Iterable[ShareKey]) -> tuple[list[str], list[str]]:
    pairs = sorted(set(keys))
    return [t for t, _ in pairs], [s for _, s in pairs]


async def lock_shares(conn: asyncpg.Connection, keys: Iterable[ShareKey]) -> None:
    """Serialise every transaction touching these shares, in one global order.

    The shares consumer and the ingest consumer run in different groups, so a
    click can be judged "share unknown, hold it" while the share is being
    inserted by another transaction that looks for held clicks before the first
    commits: the held click would wait forever. Both sides take these locks
    (transaction-scoped, ordered by hash, so two batches cannot deadlock) before
    reading or writing a share, which makes "hold" and "match" mutually exclusive.
    """
    names = sorted({f"{tenant}:{share}" for tenant, share in keys})
    if names:
        await conn.execute(
            "SELECT pg_advisory_xact_lock(h) FROM ("
            " SELECT DISTINCT hashtextextended(k, 0) AS h FROM unnest($1::text[]) AS k ORDER BY h"
            ") AS ordered",
            names,
        )


async def share_facts(
    conn: asyncpg.Connection, keys: Iterable[ShareKey]
) -> dict[ShareKey, ShareFacts]:
    tenants, shares = _split(keys)
    rows = await conn.fetch(
        "SELECT s.tenant_id, s.share_id, s.advocate_id, s.network FROM shares s "
        "JOIN unnest($1::text[], $2::text[]) AS k(t, s) ON s.tenant_id = k.t AND s.share_id = k.s",
        tenants,
        shares,
    )
    return {
        (r["tenant_id"], r["share_id"]): ShareFacts(
            r["tenant_id"], r["share_id"], r["advocate_id"], r["network"]
        )
        for r in rows
    }


async def apply_changes(conn: asyncpg.Connection, changes: Changes) -> None:
    """Add `changes` to the shares' totals and mark them dirty for the flusher."""
    if not changes:
        return
    # The totals update touches no indexed column of `shares` (HOT); the dirty mark
    # lives in `share_emissions`, upserted for exactly the shares updated, in key order.
    # The rows travel as one packed JSON parameter (chorus_platform.packed), in key order.
    await conn.execute(
        "WITH d AS ("
        " SELECT r->>0 AS tenant_id, r->>1 AS share_id, (r->>2)::bigint AS clicks, "
        "  (r->>3)::bigint AS reactions, (r->>4)::bigint AS comments, "
        "  (r->>5)::bigint AS reshares, (r->>6)::bigint AS impressions, "
        "  (r->>7)::boolean AS imp_reported, r->8 AS rejected "
        " FROM jsonb_array_elements($1::text::jsonb) AS r), "
        "updated AS ("
        "UPDATE shares s SET clicks = s.clicks + d.clicks, "
        " reactions = greatest(s.reactions + d.reactions, 0), "
        " comments = greatest(s.comments + d.comments, 0), "
        " reshares = greatest(s.reshares + d.reshares, 0), "
        " impressions = greatest(s.impressions + d.impressions, 0), "
        " impressions_reported = s.impressions_reported OR d.imp_reported, "
        " rejected = CASE WHEN d.rejected = '{}' THEN s.rejected "
        "   ELSE add_counts(s.rejected, d.rejected) END "
        "FROM d WHERE s.tenant_id = d.tenant_id AND s.share_id = d.share_id "
        "RETURNING s.tenant_id, s.share_id) "
        "INSERT INTO share_emissions AS e (tenant_id, share_id, dirty_since) "
        "SELECT tenant_id, share_id, clock_timestamp() FROM updated ORDER BY 1, 2 "
        "ON CONFLICT (tenant_id, share_id) DO UPDATE SET dirty_since = excluded.dirty_since "
        "WHERE e.dirty_since IS NULL",
        packed.rows(
            (
                tenant,
                share,
                c.clicks,
                c.reactions,
                c.comments,
                c.reshares,
                c.impressions,
                c.impressions_reported,
                c.rejected,
            )
            for (tenant, share), c in sorted(changes.items())
        ),
    )


async def fraud_rules(conn: asyncpg.Connection, tenants: Sequence[str]) -> dict[str, FraudRules]:
    """Each tenant's rules; defaults for a tenant without a row (or an unreadable one)."""
    rows = await conn.fetch(
        "SELECT tenant_id, rules FROM fraud_rules WHERE tenant_id = ANY($1::text[])",
        list(set(tenants)),
    )
    found: dict[str, FraudRules] = {}
    for row in rows:
        try:
            found[row["tenant_id"]] = FraudRules.model_validate(row["rules"])
        except ValidationError:
            # Stored by an older version with other fields: defaults beat a stuck consumer.
            found[row["tenant_id"]] = FraudRules()
    return {tenant: found.get(tenant, FraudRules()) for tenant in tenants}
