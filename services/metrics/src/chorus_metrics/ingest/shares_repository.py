"""SQL of the shares and content read models."""

from __future__ import annotations

import json
from collections.abc import Sequence

import asyncpg
from chorus_events.contracts import ContentApproved, ContentRetired, SharePosted

from chorus_metrics.text import hashtags


async def insert_shares(
    conn: asyncpg.Connection, shares: Sequence[SharePosted]
) -> list[tuple[str, str]]:
    """Insert shares not known yet; return the (tenant, share) keys that were new."""
    if not shares:
        return []
    rows = await conn.fetch(
        "INSERT INTO shares (tenant_id, share_id, content_id, advocate_id, team_ids, network, "
        "  campaign_hashtags, caption_hashtags, posted_at) "
        "SELECT s.tenant_id, s.share_id, s.content_id, s.advocate_id, "
        "  ARRAY(SELECT jsonb_array_elements_text(s.team_ids::jsonb)), s.network, "
        "  ARRAY(SELECT jsonb_array_elements_text(s.campaign::jsonb)), "
        "  ARRAY(SELECT jsonb_array_elements_text(s.caption::jsonb)), s.posted_at "
        "FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], "
        "  $7::text[], $8::text[], $9::timestamptz[]) "
        "  AS s(tenant_id, share_id, content_id, advocate_id, team_ids, network, campaign, "
        "       caption, posted_at) "
        "ON CONFLICT (tenant_id, share_id) DO NOTHING RETURNING tenant_id, share_id",
        [s.tenant_id for s in shares],
        [s.share_id for s in shares],
        [s.content_id for s in shares],
        [s.advocate_id for s in shares],
        # Ragged lists travel as JSON: a Postgres array of arrays must be rectangular.
        [json.dumps(list(s.team_ids)) for s in shares],
        [s.network.value for s in shares],
        [json.dumps([hashtags.normalise(t) for t in s.campaign_hashtags]) for s in shares],
        [json.dumps(hashtags.extract(s.caption)) for s in shares],
        [s.posted_at for s in shares],
    )
    await _record_audiences(conn, shares)
    return [(r["tenant_id"], r["share_id"]) for r in rows]


async def _record_audiences(conn: asyncpg.Connection, shares: Sequence[SharePosted]) -> None:
    """Audience sizes declared with a share feed estimated reach like PUT /audiences does.

    The latest share of a batch wins per advocate and network (shares arrive in order
    per advocate); a later PUT /audiences or share overwrites it.
    """
    latest: dict[tuple[str, str, str], int] = {}
    for s in shares:
        if s.audience_size is not None:
            latest[(s.tenant_id, s.advocate_id, s.network.value)] = s.audience_size
    if not latest:
        return
    await conn.execute(
        "INSERT INTO audiences (tenant_id, advocate_id, network, followers) "
        "SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[]) "
        "ON CONFLICT (tenant_id, advocate_id, network) DO UPDATE "
        "SET followers = excluded.followers, updated_at = now()",
        [k[0] for k in latest],
        [k[1] for k in latest],
        [k[2] for k in latest],
        list(latest.values()),
    )


async def upsert_content(conn: asyncpg.Connection, item: ContentApproved) -> None:
    """A newer version replaces an older one. Approval and retirement travel on two
    topics, so they may arrive in either order: a retirement later than this
    approval stays; an earlier one is undone (the item was approved again)."""
    await conn.execute(
        "INSERT INTO content_items (tenant_id, content_id, version, available_from, expires_at, "
        "  campaign_hashtags) VALUES ($1, $2, $3, $4, $5, $6) "
        "ON CONFLICT (tenant_id, content_id) DO UPDATE SET version = excluded.version, "
        "  available_from = CASE WHEN content_items.version = 0 THEN excluded.available_from "
        "    ELSE least(content_items.available_from, excluded.available_from) END, "
        "  expires_at = excluded.expires_at, "
        "  retired_at = CASE WHEN content_items.retired_at > $7 THEN content_items.retired_at END,"
        "  campaign_hashtags = excluded.campaign_hashtags "
        "WHERE content_items.version <= excluded.version",
        item.tenant_id,
        item.content_id,
        item.version,
        item.publish_at,
        item.expires_at,
        [hashtags.normalise(t) for t in item.campaign_hashtags],
        item.approved_at,
    )


async def retire_content(conn: asyncpg.Connection, item: ContentRetired) -> None:
    # Version 0 marks a retirement seen before its approval.
    await conn.execute(
        "INSERT INTO content_items (tenant_id, content_id, version, available_from, retired_at) "
        "VALUES ($1, $2, 0, $3, $3) "
        "ON CONFLICT (tenant_id, content_id) DO UPDATE SET retired_at = excluded.retired_at",
        item.tenant_id,
        item.content_id,
        item.retired_at,
    )
