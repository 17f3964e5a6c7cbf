"""SQL of the flusher: claim dirty shares, then record what was emitted."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg


async def claim_dirty(
    conn: asyncpg.Connection, *, min_interval: float, limit: int
) -> list[asyncpg.Record]:
    """Lock dirty shares whose last emission is at least `min_interval` seconds old.

    `FOR UPDATE SKIP LOCKED` on both the share and its emission row: a second
    flusher claims other shares instead of waiting, and an ingest transaction
    updating a claimed share waits until the flush commits, so the totals read here
    are exactly the ones recorded as emitted. `rejected` is NULL when it equals what
    was emitted (the common case): no JSON to decode for nothing.
    """
    return list(
        await conn.fetch(
            "SELECT s.tenant_id, s.share_id, s.content_id, s.advocate_id, s.team_ids, "
            "  s.network, s.campaign_hashtags, s.clicks, s.reactions, s.comments, s.reshares, "
            "  s.impressions, "
            "  CASE WHEN s.rejected = e.emitted_rejected THEN NULL ELSE s.rejected END "
            "    AS rejected, "
            "  CASE WHEN s.rejected = e.emitted_rejected THEN NULL ELSE e.emitted_rejected END "
            "    AS emitted_rejected, "
            "  e.emitted_clicks, e.emitted_reactions, e.emitted_comments, e.emitted_reshares, "
            "  e.emitted_impressions, e.sequence, e.dirty_since, e.last_emitted_at, "
            "  clock_timestamp() AS now "
            # A primary-key lookup per claimed row (OFFSET 0 keeps the subquery per
            # row); joined, the planner may scan every share to hash them.
            "FROM share_emissions e CROSS JOIN LATERAL (SELECT * FROM shares s "
            "  WHERE s.tenant_id = e.tenant_id AND s.share_id = e.share_id OFFSET 0) AS s "
            "WHERE e.dirty_since IS NOT NULL AND (e.last_emitted_at IS NULL "
            "  OR e.last_emitted_at <= clock_timestamp() - make_interval(secs => $1)) "
            "ORDER BY e.dirty_since LIMIT $2 FOR UPDATE OF e, s SKIP LOCKED",
            min_interval,
            limit,
        )
    )


async def mark_emitted(
    conn: asyncpg.Connection, keys: Sequence[tuple[str, str]], emitted: Sequence[bool]
) -> None:
    """Snapshot the totals as emitted; bump the sequence only where an event went out.
    Writes `share_emissions` only: `shares` (and its rollup trigger) is not touched."""
    await conn.execute(
        "UPDATE share_emissions e SET emitted_clicks = s.clicks, "
        " emitted_reactions = s.reactions, emitted_comments = s.comments, "
        " emitted_reshares = s.reshares, emitted_impressions = s.impressions, "
        " emitted_rejected = s.rejected, "
        " sequence = e.sequence + CASE WHEN k.emitted THEN 1 ELSE 0 END, "
        " last_emitted_at = CASE WHEN k.emitted THEN clock_timestamp() "
        "   ELSE e.last_emitted_at END, "
        " dirty_since = NULL "
        "FROM unnest($1::text[], $2::text[], $3::boolean[]) AS k(tenant_id, share_id, emitted) "
        "JOIN shares s ON s.tenant_id = k.tenant_id AND s.share_id = k.share_id "
        "WHERE e.tenant_id = k.tenant_id AND e.share_id = k.share_id",
        [k[0] for k in keys],
        [k[1] for k in keys],
        list(emitted),
    )
