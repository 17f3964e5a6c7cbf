"""Contests and raffles: definitions, the ledger queries they rank by, claiming due ones."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from chorus_rewards.accrual import EARNING_KINDS

_EARNING = [k.value for k in EARNING_KINDS]


async def create_contest(db: Any, tenant_id: str, fields: dict[str, Any]) -> Any:
    return await db.fetchrow(
        "INSERT INTO contests (tenant_id, name, hashtag, metric, starts_at, ends_at, prizes, "
        "created_by) VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8) RETURNING *",
        tenant_id,
        fields["name"],
        fields["hashtag"],
        fields["metric"],
        fields["starts_at"],
        fields["ends_at"],
        fields["prizes"],
        fields["created_by"],
    )


async def contest(db: Any, tenant_id: str, contest_id: int) -> Any:
    return await db.fetchrow(
        "SELECT * FROM contests WHERE tenant_id = $1 AND id = $2", tenant_id, contest_id
    )


async def contests(db: Any, tenant_id: str, limit: int) -> list[Any]:
    rows: list[Any] = await db.fetch(
        "SELECT * FROM contests WHERE tenant_id = $1 ORDER BY id DESC LIMIT $2", tenant_id, limit
    )
    return rows


async def contest_totals(
    db: Any,
    tenant_id: str,
    hashtag: str,
    metric: str,
    starts_at: datetime,
    ends_at: datetime,
    high_id: int | None,
) -> list[Any]:
    """Per advocate: the metric summed over the window's earning entries carrying the
    hashtag (ids up to `high_id`), and when it last changed. Unordered."""
    rows: list[Any] = await db.fetch(
        "SELECT advocate_id, sum(v)::bigint AS value, max(occurred_at) FILTER (WHERE v <> 0) "
        "AS reached FROM (SELECT advocate_id, occurred_at, CASE $5 WHEN 'points' THEN points "
        "WHEN 'engagement' THEN engagement ELSE reach END AS v FROM ledger "
        "WHERE tenant_id = $1 AND kind = ANY($7::text[]) AND $2 = ANY(hashtags) "
        "AND occurred_at >= $3 AND occurred_at < $4 AND ($6::bigint IS NULL OR id <= $6)) e "
        "GROUP BY advocate_id HAVING bool_or(v <> 0)",
        tenant_id,
        hashtag,
        starts_at,
        ends_at,
        metric,
        high_id,
        _EARNING,
    )
    return rows


async def ledger_high_id(conn: asyncpg.Connection, tenant_id: str) -> int:
    high: int = await conn.fetchval(
        "SELECT coalesce(max(id), 0) FROM ledger WHERE tenant_id = $1", tenant_id
    )
    return high


async def claim_due_contests(
    conn: asyncpg.Connection, grace_seconds: float, limit: int
) -> list[Any]:
    """Lock contests ready to freeze; a second scheduler skips the rows this one holds."""
    rows: list[Any] = await conn.fetch(
        "SELECT * FROM contests WHERE state = 'scheduled' "
        "AND ends_at + make_interval(secs => $1) <= now() "
        "ORDER BY ends_at LIMIT $2 FOR UPDATE SKIP LOCKED",
        grace_seconds,
        limit,
    )
    return rows


async def save_results(
    conn: asyncpg.Connection, contest_id: int, high_id: int, results: Any, digest: str
) -> None:
    await conn.execute(
        "UPDATE contests SET state = 'frozen', frozen_at = now(), ledger_high_id = $2, "
        "results = $3::jsonb, results_sha256 = $4 WHERE id = $1 AND state = 'scheduled'",
        contest_id,
        high_id,
        results,
        digest,
    )


async def create_raffle(db: Any, tenant_id: str, fields: dict[str, Any]) -> Any:
    return await db.fetchrow(
        "INSERT INTO raffles (tenant_id, name, hashtag, starts_at, ends_at, winners_count, "
        "seed_sha256, seed, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING *",
        tenant_id,
        fields["name"],
        fields["hashtag"],
        fields["starts_at"],
        fields["ends_at"],
        fields["winners_count"],
        fields["seed_sha256"],
        fields["seed"],
        fields["created_by"],
    )


async def raffle(db: Any, tenant_id: str, raffle_id: int) -> Any:
    return await db.fetchrow(
        "SELECT * FROM raffles WHERE tenant_id = $1 AND id = $2", tenant_id, raffle_id
    )


async def lock_raffle(conn: asyncpg.Connection, tenant_id: str, raffle_id: int) -> Any:
    return await conn.fetchrow(
        "SELECT * FROM raffles WHERE tenant_id = $1 AND id = $2 FOR UPDATE", tenant_id, raffle_id
    )


async def raffles(db: Any, tenant_id: str, limit: int) -> list[Any]:
    rows: list[Any] = await db.fetch(
        "SELECT * FROM raffles WHERE tenant_id = $1 ORDER BY id DESC LIMIT $2", tenant_id, limit
    )
    return rows


async def raffle_weights(
    conn: asyncpg.Connection, tenant_id: str, hashtag: str, starts_at: datetime, ends_at: datetime
) -> list[tuple[str, int]]:
    """Valid shares per advocate in the campaign window (networks that allow rewarding)."""
    rows = await conn.fetch(
        "SELECT advocate_id, count(*) AS weight FROM shares WHERE tenant_id = $1 AND rewardable "
        "AND $2 = ANY(hashtags) AND posted_at >= $3 AND posted_at < $4 GROUP BY advocate_id",
        tenant_id,
        hashtag,
        starts_at,
        ends_at,
    )
    return [(r["advocate_id"], r["weight"]) for r in rows]


async def claim_due_raffles(
    conn: asyncpg.Connection, grace_seconds: float, limit: int
) -> list[Any]:
    rows: list[Any] = await conn.fetch(
        "SELECT * FROM raffles WHERE state = 'open' AND ends_at + make_interval(secs => $1) "
        "<= now() ORDER BY ends_at LIMIT $2 FOR UPDATE SKIP LOCKED",
        grace_seconds,
        limit,
    )
    return rows


async def save_draw(
    conn: asyncpg.Connection, raffle_id: int, entries: Any, digest: str, winners: Any
) -> Any:
    return await conn.fetchrow(
        "UPDATE raffles SET state = 'drawn', drawn_at = now(), entries = $2::jsonb, "
        "entries_sha256 = $3, winners = $4::jsonb WHERE id = $1 AND state = 'open' RETURNING *",
        raffle_id,
        entries,
        digest,
        winners,
    )
