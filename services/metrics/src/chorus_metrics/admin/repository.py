"""SQL of tenant administration."""

from __future__ import annotations

import asyncpg

from chorus_metrics.admin.schemas import AudienceIn


async def get_rules(conn: asyncpg.Connection, tenant: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT rules, updated_at, updated_by FROM fraud_rules WHERE tenant_id = $1", tenant
    )


async def put_rules(
    conn: asyncpg.Connection, tenant: str, rules: dict[str, object], by: str
) -> asyncpg.Record:
    row = await conn.fetchrow(
        "INSERT INTO fraud_rules (tenant_id, rules, updated_by) VALUES ($1, $2, $3) "
        "ON CONFLICT (tenant_id) DO UPDATE SET rules = excluded.rules, "
        "  updated_by = excluded.updated_by, updated_at = now() "
        "RETURNING rules, updated_at, updated_by",
        tenant,
        rules,
        by,
    )
    assert row is not None
    return row


async def get_program(conn: asyncpg.Connection, tenant: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT enrolled_advocates, time_zone, updated_at FROM programs WHERE tenant_id = $1",
        tenant,
    )


async def put_program(
    conn: asyncpg.Connection, tenant: str, enrolled: int, time_zone: str | None
) -> asyncpg.Record:
    row = await conn.fetchrow(
        "INSERT INTO programs (tenant_id, enrolled_advocates, time_zone) VALUES ($1, $2, $3) "
        "ON CONFLICT (tenant_id) DO UPDATE SET enrolled_advocates = excluded.enrolled_advocates,"
        "  time_zone = excluded.time_zone, updated_at = now() "
        "RETURNING enrolled_advocates, time_zone, updated_at",
        tenant,
        enrolled,
        time_zone,
    )
    assert row is not None
    return row


async def put_audiences(conn: asyncpg.Connection, tenant: str, items: list[AudienceIn]) -> None:
    await conn.execute(
        "INSERT INTO audiences (tenant_id, advocate_id, network, followers) "
        "SELECT $1, * FROM unnest($2::text[], $3::text[], $4::bigint[]) "
        "ON CONFLICT (tenant_id, advocate_id, network) DO UPDATE "
        "SET followers = excluded.followers, updated_at = now()",
        tenant,
        [a.advocate_id for a in items],
        [a.network.value for a in items],
        [a.followers for a in items],
    )


async def add_fingerprints(
    conn: asyncpg.Connection, tenant: str, advocate_id: str, hashes: list[str]
) -> None:
    await conn.execute(
        "INSERT INTO advocate_fingerprints (tenant_id, visitor_hash, advocate_id) "
        "SELECT $1, h, $2 FROM unnest($3::text[]) AS h "
        "ON CONFLICT (tenant_id, visitor_hash, advocate_id) DO UPDATE SET last_seen_at = now()",
        tenant,
        advocate_id,
        sorted(set(hashes)),
    )
