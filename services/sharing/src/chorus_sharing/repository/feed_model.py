"""Writes of the feed read model, applied by the `content.*` consumer in its transaction."""

from __future__ import annotations

import asyncpg
from chorus_events.contracts.content import ContentApproved, ContentRetired


async def upsert_approved(conn: asyncpg.Connection, items: list[ContentApproved]) -> int:
    """Insert or replace feed items; a row only moves to a *higher* version.

    Idempotent and order-insensitive: replaying an approval, or receiving version
    2 after version 3, leaves the row at version 3 (the WHERE of the upsert).
    Returns how many rows changed.
    """
    changed = 0
    for p in items:
        status = await conn.execute(
            "INSERT INTO feed_items AS f (tenant_id, content_id, version, title, body, link_url, "
            "media, category, language, campaign_hashtags, campaign_keys, suggested_captions, "
            "required_disclosure, audience, team_ids, publish_at, expires_at, approved_at) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, "
            "$18) ON CONFLICT (tenant_id, content_id) DO UPDATE SET version = EXCLUDED.version, "
            "title = EXCLUDED.title, body = EXCLUDED.body, link_url = EXCLUDED.link_url, "
            "media = EXCLUDED.media, category = EXCLUDED.category, language = EXCLUDED.language, "
            "campaign_hashtags = EXCLUDED.campaign_hashtags, "
            "campaign_keys = EXCLUDED.campaign_keys, "
            "suggested_captions = EXCLUDED.suggested_captions, "
            "required_disclosure = EXCLUDED.required_disclosure, audience = EXCLUDED.audience, "
            "team_ids = EXCLUDED.team_ids, publish_at = EXCLUDED.publish_at, "
            "expires_at = EXCLUDED.expires_at, approved_at = EXCLUDED.approved_at, "
            "updated_at = clock_timestamp() WHERE f.version < EXCLUDED.version",
            p.tenant_id,
            p.content_id,
            p.version,
            p.title,
            p.body,
            p.link_url,
            [m.model_dump(mode="json") for m in p.media],
            p.category,
            p.language,
            list(p.campaign_hashtags),
            sorted({tag.lstrip("#").lower() for tag in p.campaign_hashtags}),
            {network.value: list(captions) for network, captions in p.suggested_captions.items()},
            p.required_disclosure,
            p.targeting.audience.value,
            list(p.targeting.team_ids),
            p.publish_at,
            p.expires_at,
            p.approved_at,
        )
        changed += int(status.rsplit(" ", 1)[-1])
    return changed


async def record_retired(conn: asyncpg.Connection, items: list[ContentRetired]) -> None:
    """Keep the latest retirement per content item (idempotent, order-insensitive)."""
    for p in items:
        await conn.execute(
            "INSERT INTO content_retirements AS r (tenant_id, content_id, reason, retired_at) "
            "VALUES ($1, $2, $3, $4) ON CONFLICT (tenant_id, content_id) DO UPDATE "
            "SET reason = EXCLUDED.reason, retired_at = EXCLUDED.retired_at "
            "WHERE r.retired_at < EXCLUDED.retired_at",
            p.tenant_id,
            p.content_id,
            p.reason.value,
            p.retired_at,
        )
