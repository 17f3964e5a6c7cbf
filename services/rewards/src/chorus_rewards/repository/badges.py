"""Reads of granted badges."""

from __future__ import annotations

from typing import Any


async def badges_of(db: Any, tenant_id: str, advocate_id: str) -> list[Any]:
    rows: list[Any] = await db.fetch(
        "SELECT badge, cause, granted_at FROM badges WHERE tenant_id = $1 AND advocate_id = $2 "
        "ORDER BY granted_at, badge",
        tenant_id,
        advocate_id,
    )
    return rows
