"""The share transaction's SQL: advocate lock, cap slot, duplicates, writes, claims."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime

import asyncpg
from chorus_events.contracts.base import Network
from chorus_events.contracts.registry import SHARE_POSTED
from chorus_events.contracts.sharing import SharePosted
from chorus_events.outbox import append_event

from chorus_sharing.domain import Share
from chorus_sharing.repository import rows
from chorus_sharing.repository.rows import SHARE_COLUMNS

SOURCE = "/chorus/sharing"


class PgShareWork:
    """One open transaction on `conn` (see `ports.ShareWork`)."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def lock_advocate(self, tenant_id: str, advocate_id: str) -> None:
        # Serialises one advocate's share transactions (humans share slowly, so the
        # wait is nil in practice): the duplicate check below then sees every
        # committed share of this advocate, whatever the day.
        await self.conn.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
            f"share:{tenant_id}:{advocate_id}",
        )

    async def take_cap_slot(self, tenant_id: str, advocate_id: str, day: date, cap: int) -> bool:
        # One statement: the row lock taken by the upsert makes a concurrent request
        # wait for our commit and then see our count, so the cap cannot be exceeded.
        counted = await self.conn.fetchval(
            "INSERT INTO daily_share_counts AS d (tenant_id, advocate_id, day, shares) "
            "VALUES ($1, $2, $3, 1) ON CONFLICT (tenant_id, advocate_id, day) "
            "DO UPDATE SET shares = d.shares + 1 WHERE d.shares < $4 RETURNING shares",
            tenant_id,
            advocate_id,
            day,
            cap,
        )
        return counted is not None and counted <= cap

    async def find_duplicate(self, share: Share, caption_digest: str | None) -> str | None:
        found: str | None = await self.conn.fetchval(
            "SELECT share_id FROM shares WHERE tenant_id = $1 AND content_id = $2 "
            "AND advocate_id = $3 AND network = $4 AND state <> 'cancelled' "
            "AND ($5::text IS NULL OR caption_digest = $5) LIMIT 1",
            share.tenant_id,
            share.content_id,
            share.advocate_id,
            share.network.value,
            caption_digest,
        )
        return found

    async def insert_share(self, share: Share, caption_digest: str) -> None:
        await self.conn.execute(
            f"INSERT INTO shares ({SHARE_COLUMNS}, caption_digest) VALUES "  # noqa: S608
            "($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, "
            "$18, $19, $20, $21)",
            share.tenant_id,
            share.share_id,
            share.content_id,
            share.advocate_id,
            list(share.team_ids),
            share.network.value,
            share.via.value,
            share.caption,
            share.final_text,
            list(share.campaign_hashtags),
            share.content_title,
            share.state.value,
            share.audience_size,
            share.link.code,
            share.link.url,
            share.link.destination_url,
            share.created_at,
            share.scheduled_at,
            share.posted_at,
            share.external_post_id,
            caption_digest,
        )

    async def claim_due(
        self, now: datetime, limit: int, api_networks: Collection[Network]
    ) -> list[Share]:
        # SKIP LOCKED: a second scheduler instance passes over the rows we hold
        # and claims others; a row we post is no longer 'scheduled' when it could
        # see it again. Hence every due share is posted by exactly one instance.
        # API shares are left to instances whose connector for the network is on.
        found = await self.conn.fetch(
            f"SELECT {SHARE_COLUMNS} FROM shares "  # noqa: S608
            "WHERE state = 'scheduled' AND scheduled_at <= $1 "
            "AND (via = 'intent' OR network = ANY($3::text[])) "
            "ORDER BY scheduled_at LIMIT $2 FOR UPDATE SKIP LOCKED",
            now,
            limit,
            [n.value for n in api_networks],
        )
        return [rows.share(r) for r in found]

    async def mark_posted(self, share: Share) -> None:
        await self.conn.execute(
            "UPDATE shares SET state = 'posted', posted_at = $3, external_post_id = $4 "
            "WHERE tenant_id = $1 AND share_id = $2",
            share.tenant_id,
            share.share_id,
            share.posted_at,
            share.external_post_id,
        )

    async def mark_cancelled(self, share: Share, reason: str) -> None:
        await self.conn.execute(
            "UPDATE shares SET state = 'cancelled', cancel_reason = $3 "
            "WHERE tenant_id = $1 AND share_id = $2",
            share.tenant_id,
            share.share_id,
            reason,
        )

    async def append_share_posted(self, payload: SharePosted) -> None:
        await append_event(self.conn, SHARE_POSTED, payload, source=SOURCE)
