"""Rules versions and tenant settings."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg

from chorus_rewards.rules import DEFAULT_RULES, PointsRules, RulesVersion

DEFAULT_TIME_ZONE = "UTC"
SYSTEM = "system"


def _version(row: Any) -> RulesVersion:
    return RulesVersion(
        version=row["version"],
        effective_from=row["effective_from"],
        rules=PointsRules.model_validate(row["rules"]),
    )


async def ensure_default_rules(db: Any, tenant_ids: Sequence[str]) -> None:
    """Materialise version 1 (the defaults) for tenants that have no rules yet."""
    await db.execute(
        "INSERT INTO rules (tenant_id, version, effective_from, rules, created_by) "
        "SELECT t, 1, NULL, $2::jsonb, $3 FROM unnest($1::text[]) AS t "
        "ON CONFLICT DO NOTHING",
        list(tenant_ids),
        DEFAULT_RULES.model_dump(mode="json"),
        SYSTEM,
    )


async def rule_rows(db: Any, tenant_ids: Sequence[str]) -> list[Any]:
    rows: list[Any] = await db.fetch(
        "SELECT tenant_id, version, effective_from, rules FROM rules "
        "WHERE tenant_id = ANY($1::text[]) ORDER BY tenant_id, version",
        list(tenant_ids),
    )
    return rows


async def versions(db: Any, tenant_id: str) -> list[RulesVersion]:
    await ensure_default_rules(db, [tenant_id])
    return [_version(r) for r in await rule_rows(db, [tenant_id])]


async def add_version(
    conn: asyncpg.Connection,
    tenant_id: str,
    rules: PointsRules,
    effective_from: datetime,
    created_by: str,
) -> RulesVersion | None:
    """Append the next version; None if a concurrent writer took the number (retry)."""
    await ensure_default_rules(conn, [tenant_id])
    row = await conn.fetchrow(
        "INSERT INTO rules (tenant_id, version, effective_from, rules, created_by) "
        "SELECT $1, max(version) + 1, $2, $3::jsonb, $4 FROM rules WHERE tenant_id = $1 "
        "ON CONFLICT DO NOTHING RETURNING version, effective_from, rules",
        tenant_id,
        effective_from,
        rules.model_dump(mode="json"),
        created_by,
    )
    return None if row is None else _version(row)


async def context_rows(db: Any, tenant_ids: Sequence[str]) -> list[Any]:
    """What the consumer needs of each tenant per batch, in one statement: its rule versions
    (without their rules: versions are immutable and parsed once, see `tenants`) and its
    time zone (NULL without settings)."""
    rows: list[Any] = await db.fetch(
        "SELECT r.tenant_id, r.version, s.time_zone FROM rules r "
        "LEFT JOIN tenant_settings s ON s.tenant_id = r.tenant_id "
        "WHERE r.tenant_id = ANY($1::text[]) ORDER BY r.tenant_id, r.version",
        list(tenant_ids),
    )
    return rows


async def settings_rows(db: Any, tenant_ids: Sequence[str]) -> dict[str, Any]:
    rows = await db.fetch(
        "SELECT tenant_id, time_zone, anonymous_leaderboards FROM tenant_settings "
        "WHERE tenant_id = ANY($1::text[])",
        list(tenant_ids),
    )
    return {r["tenant_id"]: r for r in rows}


async def save_settings(db: Any, tenant_id: str, time_zone: str, anonymous: bool) -> None:
    await db.execute(
        "INSERT INTO tenant_settings (tenant_id, time_zone, anonymous_leaderboards) "
        "VALUES ($1, $2, $3) ON CONFLICT (tenant_id) DO UPDATE SET "
        "time_zone = excluded.time_zone, anonymous_leaderboards = excluded.anonymous_leaderboards, "
        "updated_at = now()",
        tenant_id,
        time_zone,
        anonymous,
    )
