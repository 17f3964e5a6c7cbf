"""SQL of tenant-defined categories."""

from __future__ import annotations

import asyncpg

from chorus_content.categories.schemas import Category


class CategoryRepository:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def custom(self, tenant_id: str) -> list[Category]:
        rows = await self.conn.fetch(
            "SELECT slug, name FROM categories WHERE tenant_id = $1 ORDER BY slug", tenant_id
        )
        return [Category(slug=row["slug"], name=row["name"], builtin=False) for row in rows]

    async def exists(self, tenant_id: str, slug: str) -> bool:
        # FOR SHARE: a concurrent delete waits for the item write that relies on it.
        found = await self.conn.fetchval(
            "SELECT 1 FROM categories WHERE tenant_id = $1 AND slug = $2 FOR SHARE",
            tenant_id,
            slug,
        )
        return found is not None

    async def add(self, tenant_id: str, slug: str, name: str) -> bool:
        """False if the tenant already has that slug."""
        status = await self.conn.execute(
            "INSERT INTO categories (tenant_id, slug, name) VALUES ($1, $2, $3) "
            "ON CONFLICT DO NOTHING",
            tenant_id,
            slug,
            name,
        )
        return bool(status == "INSERT 0 1")

    async def in_use(self, tenant_id: str, slug: str) -> bool:
        found = await self.conn.fetchval(
            "SELECT 1 FROM items WHERE tenant_id = $1 AND category = $2 LIMIT 1", tenant_id, slug
        )
        return found is not None

    async def delete(self, tenant_id: str, slug: str) -> bool:
        status = await self.conn.execute(
            "DELETE FROM categories WHERE tenant_id = $1 AND slug = $2", tenant_id, slug
        )
        return bool(status == "DELETE 1")
