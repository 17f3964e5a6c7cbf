"""SQL of the flusher: claim dirty shares, then record what was emitted."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg


async def claim_dirty(
    conn: asyncpg.Connection, *, min_interval: float, limit: int
) -> list[asyncpg.Record]:
    """Lock dirty shares whose last emission is at least `min_interval` seconds old.

    `FOR UPDATE SKIP LOCKED`: a second flusher claims other shares instead of
    waiting, and an ingest transaction updating a claimed share waits until the
    flush commits, so the totals read here are exactly the ones recorded as emitted.
    """
    return list(
        await conn.fetch(
            "SELECT tenant_id, share_id, content_id, advocate_id, team_ids, network, "
            "  campaign_hashtags, clicks, reactions, comments, reshares, impressions, "
            "  rejected, emitted_clicks, emitted_reactions, emitted_comments, emitted_reshares, "
            "  emitted_impressions, emitted_rejected, sequence, dirty_since, last_emitted_at, "
            "  clock_timestamp() AS now "
            "FROM shares WHERE dirty_since IS NOT NULL AND (last_emitted_at IS NULL "
            "  OR last_emitted_at <= clock_timestamp() - make_interval(secs => $1)) "
            "ORDER BY dirty_since LIMIT $2 FOR UPDATE SKIP LOCKED",
            min_interval,
            limit,
        )
    )


async def mark_emitted(
    conn: asyncpg.Connection, keys: Sequence[tuple[str, str]], emitted: Sequence[bool]
) -> None:
    """Snapshot the totals as emitted; bump the sequence only where an event went out."""
    await conn.execute(
        "UPDATE shares s SET emitted_clicks = s.clicks, emitted_reactions = s.reactions, "
        " emitted_comments = s.comments, emitted_reshares = s.reshares, "
        " emitted_impressions = s.impressions, emitted_rejected = s.rejected, "
        " sequence = s.sequence + CASE WHEN k.emitted THEN 1 ELSE 0 END, "
        " last_emitted_at = CASE WHEN k.emitted THEN clock_timestamp() "
        "   ELSE s.last_emitted_at END, "
        " dirty_since = NULL "
        "FROM unnest($1::text[], $2::text[], $3::boolean[]) AS k(tenant_id, share_id, emitted) "
        "WHERE s.tenant_id = k.tenant_id AND s.share_id = k.share_id",
        [k[0] for k in keys],
        [k[1] for k in keys],
        list(emitted),
    )
