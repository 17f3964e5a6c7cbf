"""Postgres adapter of `ShareStore`: feed reads, shares, policies (all SQL lives here)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, datetime

import asyncpg
from chorus_events.contracts.registry import SHARE_POSTED
from chorus_events.contracts.sharing import SharePosted
from chorus_events.outbox import append_event

from chorus_sharing.domain import FeedItem, Share, SharingPolicy
from chorus_sharing.ports import FeedQuery, ShareQuery
from chorus_sharing.repository import rows
from chorus_sharing.repository.rows import FEED_COLUMNS, RETIRED, SHARE_COLUMNS

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

    async def claim_due(self, now: datetime, limit: int) -> list[Share]:
        # SKIP LOCKED: a second scheduler instance passes over the rows we hold
        # and claims others; a row we post is no longer 'scheduled' when it could
        # see it again. Hence every due share is posted by exactly one instance.
        found = await self.conn.fetch(
            f"SELECT {SHARE_COLUMNS} FROM shares "  # noqa: S608
            "WHERE state = 'scheduled' AND scheduled_at <= $1 "
            "ORDER BY scheduled_at LIMIT $2 FOR UPDATE SKIP LOCKED",
            now,
            limit,
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


class PgShareStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[PgShareWork]:
        async with self.pool.acquire() as conn, conn.transaction():
            yield PgShareWork(conn)

    async def feed_item(self, tenant_id: str, content_id: str) -> FeedItem | None:
        row = await self.pool.fetchrow(
            f"SELECT {FEED_COLUMNS}, {RETIRED} AS retired FROM feed_items f "  # noqa: S608
            "WHERE f.tenant_id = $1 AND f.content_id = $2",
            tenant_id,
            content_id,
        )
        return rows.feed_item(row) if row else None

    async def feed_page(self, query: FeedQuery) -> list[FeedItem]:
        after_at, after_id = query.after or (None, None)
        found = await self.pool.fetch(
            f"SELECT {FEED_COLUMNS}, coalesce(("  # noqa: S608
            "  SELECT array_agg(DISTINCT s.network) FROM shares s"
            "  WHERE s.tenant_id = f.tenant_id AND s.content_id = f.content_id"
            "  AND s.advocate_id = $2 AND s.state <> 'cancelled'), '{}') AS shared_networks "
            "FROM feed_items f WHERE f.tenant_id = $1 "
            "AND f.publish_at <= $3 AND (f.expires_at IS NULL OR f.expires_at > $3) "
            "AND (f.audience = 'all' OR f.team_ids && $4::text[]) "
            f"AND NOT {RETIRED} "
            "AND ($5::text IS NULL OR f.category = $5) "
            "AND ($6::text IS NULL OR $6 = ANY(f.campaign_keys)) "
            "AND ($7::timestamptz IS NULL OR (f.publish_at, f.content_id) < ($7, $8)) "
            "ORDER BY f.publish_at DESC, f.content_id DESC LIMIT $9",
            query.tenant_id,
            query.advocate_id,
            query.now,
            sorted(query.team_ids),
            query.category,
            query.campaign,
            after_at,
            after_id,
            query.limit,
        )
        return [rows.feed_item(r) for r in found]

    async def share(self, tenant_id: str, share_id: str) -> Share | None:
        row = await self.pool.fetchrow(
            f"SELECT {SHARE_COLUMNS} FROM shares "  # noqa: S608
            "WHERE tenant_id = $1 AND share_id = $2",
            tenant_id,
            share_id,
        )
        return rows.share(row) if row else None

    async def shares(self, query: ShareQuery) -> list[Share]:
        after_at, after_id = query.after or (None, None)
        found = await self.pool.fetch(
            f"SELECT {SHARE_COLUMNS} FROM shares WHERE tenant_id = $1 "  # noqa: S608
            "AND ($2::text IS NULL OR advocate_id = $2) "
            "AND ($3::text IS NULL OR content_id = $3) "
            "AND ($4::text IS NULL OR network = $4) "
            "AND ($5::text IS NULL OR state = $5) "
            "AND ($6::timestamptz IS NULL OR (created_at, share_id) < ($6, $7)) "
            "ORDER BY created_at DESC, share_id DESC LIMIT $8",
            query.tenant_id,
            query.advocate_id,
            query.content_id,
            query.network.value if query.network else None,
            query.state.value if query.state else None,
            after_at,
            after_id,
            query.limit,
        )
        return [rows.share(r) for r in found]

    async def policy(self, tenant_id: str) -> SharingPolicy | None:
        row = await self.pool.fetchrow(
            "SELECT tenant_id, daily_cap, duplicate_rule, default_link_url, updated_at, "
            "updated_by FROM policies WHERE tenant_id = $1",
            tenant_id,
        )
        return rows.policy(row) if row else None

    async def save_policy(self, policy: SharingPolicy) -> None:
        await self.pool.execute(
            "INSERT INTO policies (tenant_id, daily_cap, duplicate_rule, default_link_url, "
            "updated_at, updated_by) VALUES ($1, $2, $3, $4, $5, $6) "
            "ON CONFLICT (tenant_id) DO UPDATE SET daily_cap = EXCLUDED.daily_cap, "
            "duplicate_rule = EXCLUDED.duplicate_rule, "
            "default_link_url = EXCLUDED.default_link_url, "
            "updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by",
            policy.tenant_id,
            policy.daily_cap,
            policy.duplicate_rule.value,
            policy.default_link_url,
            policy.updated_at,
            policy.updated_by,
        )
