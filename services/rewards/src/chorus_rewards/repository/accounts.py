"""Reads of balances and ledger history."""

from __future__ import annotations

from typing import Any


async def account(db: Any, tenant_id: str, advocate_id: str) -> Any:
    return await db.fetchrow(
        "SELECT balance, earned, shares, streak_weeks FROM accounts "
        "WHERE tenant_id = $1 AND advocate_id = $2",
        tenant_id,
        advocate_id,
    )


async def entries(
    db: Any, tenant_id: str, advocate_id: str, limit: int, before_id: int | None
) -> list[Any]:
    rows: list[Any] = await db.fetch(
        "SELECT id, kind, points, engagement, reach, breakdown, rule_version, event_id, "
        "share_id, redemption_id, team_ids, hashtags, occurred_at, recorded_at FROM ledger "
        "WHERE tenant_id = $1 AND advocate_id = $2 AND ($3::bigint IS NULL OR id < $3) "
        "ORDER BY id DESC LIMIT $4",
        tenant_id,
        advocate_id,
        before_id,
        limit,
    )
    return rows
