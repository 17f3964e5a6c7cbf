"""Postgres adapter of `ShareStore`: feed and share reads, policies, transactions."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

from chorus_sharing.domain import FeedItem, Share, SharingPolicy
from chorus_sharing.ports import FeedQuery, ShareQuery
from chorus_sharing.repository import rows
from chorus_sharing.repository.rows import FEED_COLUMNS, RETIRED, SHARE_COLUMNS
from chorus_sharing.repository.share_work import PgShareWork


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
