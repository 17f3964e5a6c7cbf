"""SQL of a tenant's guidelines document (one row per tenant, versioned)."""

from __future__ import annotations

import asyncpg

from chorus_content.guidelines.schemas import GuidelinesIn, GuidelinesOut


class GuidelinesRepository:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def version(self, tenant_id: str) -> int:
        """0 when the tenant has no guidelines yet."""
        value = await self.conn.fetchval(
            "SELECT version FROM guidelines WHERE tenant_id = $1", tenant_id
        )
        return int(value or 0)

    async def get(self, tenant_id: str) -> GuidelinesOut:
        row = await self.conn.fetchrow(
            "SELECT version, document, updated_at, updated_by FROM guidelines WHERE tenant_id = $1",
            tenant_id,
        )
        if row is None:
            return GuidelinesOut(version=0)
        return GuidelinesOut.model_validate(
            {
                **row["document"],
                "version": row["version"],
                "updated_at": row["updated_at"],
                "updated_by": row["updated_by"],
            }
        )

    async def put(self, tenant_id: str, document: GuidelinesIn, updated_by: str) -> GuidelinesOut:
        row = await self.conn.fetchrow(
            "INSERT INTO guidelines (tenant_id, version, document, updated_by) "
            "VALUES ($1, 1, $2, $3) ON CONFLICT (tenant_id) DO UPDATE SET "
            "version = guidelines.version + 1, document = EXCLUDED.document, "
            "updated_by = EXCLUDED.updated_by, updated_at = clock_timestamp() "
            "RETURNING version, updated_at, updated_by",
            tenant_id,
            document.model_dump(mode="json"),
            updated_by,
        )
        return GuidelinesOut.model_validate(
            {
                **document.model_dump(),
                "version": row["version"],
                "updated_at": row["updated_at"],
                "updated_by": row["updated_by"],
            }
        )
