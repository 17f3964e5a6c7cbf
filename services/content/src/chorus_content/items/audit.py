"""SQL of the audit trail: one row per transition of an item (and its creation)."""

from __future__ import annotations

import asyncpg

from chorus_content.items.schemas import AuditEntryOut
from chorus_content.items.workflow import ContentState


class AuditRepository:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def record(
        self,
        tenant_id: str,
        item_id: str,
        *,
        action: str,
        from_state: ContentState | None,
        to_state: ContentState,
        actor: str,
        comment: str | None = None,
    ) -> None:
        await self.conn.execute(
            "INSERT INTO item_audit (tenant_id, item_id, action, from_state, to_state, actor, "
            "comment) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            tenant_id,
            item_id,
            action,
            from_state.value if from_state is not None else None,
            to_state.value,
            actor,
            comment,
        )

    async def trail(self, tenant_id: str, item_id: str) -> list[AuditEntryOut]:
        rows = await self.conn.fetch(
            "SELECT action, from_state, to_state, actor, comment, at FROM item_audit "
            "WHERE tenant_id = $1 AND item_id = $2 ORDER BY id",
            tenant_id,
            item_id,
        )
        return [AuditEntryOut.model_validate(dict(row)) for row in rows]
