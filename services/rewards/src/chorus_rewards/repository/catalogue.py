"""Catalogue items and redemptions. Lock order everywhere: item row, then account row."""

from __future__ import annotations

from typing import Any

import asyncpg


async def create_item(
    db: Any, tenant_id: str, name: str, description: str, cost: int, stock: int
) -> Any:
    return await db.fetchrow(
        "INSERT INTO catalogue_items (tenant_id, name, description, cost, stock) "
        "VALUES ($1, $2, $3, $4, $5) RETURNING *",
        tenant_id,
        name,
        description,
        cost,
        stock,
    )


async def items(db: Any, tenant_id: str, include_inactive: bool) -> list[Any]:
    rows: list[Any] = await db.fetch(
        "SELECT * FROM catalogue_items WHERE tenant_id = $1 AND (active OR $2) ORDER BY id",
        tenant_id,
        include_inactive,
    )
    return rows


async def update_item(
    db: Any, tenant_id: str, item_id: int, changes: dict[str, Any], restock: int
) -> Any:
    """Set name/description/cost/active where given and add `restock` to the stock."""
    return await db.fetchrow(
        "UPDATE catalogue_items SET name = coalesce($3, name), "
        "description = coalesce($4, description), cost = coalesce($5, cost), "
        "active = coalesce($6, active), stock = stock + $7 "
        "WHERE tenant_id = $1 AND id = $2 RETURNING *",
        tenant_id,
        item_id,
        changes.get("name"),
        changes.get("description"),
        changes.get("cost"),
        changes.get("active"),
        restock,
    )


async def item_cost(conn: asyncpg.Connection, tenant_id: str, item_id: int) -> int | None:
    cost: int | None = await conn.fetchval(
        "SELECT cost FROM catalogue_items WHERE tenant_id = $1 AND id = $2 AND active",
        tenant_id,
        item_id,
    )
    return cost


async def take_one(conn: asyncpg.Connection, tenant_id: str, item_id: int, cost: int) -> bool:
    """Decrement stock if some is left (and the price is still `cost`). Blocks on the item
    row while another redemption holds it, then re-checks `stock > 0` on the new version."""
    row = await conn.fetchrow(
        "UPDATE catalogue_items SET stock = stock - 1 WHERE tenant_id = $1 AND id = $2 "
        "AND active AND cost = $3 AND stock > 0 RETURNING stock",
        tenant_id,
        item_id,
        cost,
    )
    return row is not None


async def give_back(conn: asyncpg.Connection, tenant_id: str, item_id: int) -> None:
    await conn.execute(
        "UPDATE catalogue_items SET stock = stock + 1 WHERE tenant_id = $1 AND id = $2",
        tenant_id,
        item_id,
    )


async def spend(conn: asyncpg.Connection, tenant_id: str, advocate_id: str, cost: int) -> bool:
    """Deduct `cost` if the balance covers it (re-checked after any wait on the row lock)."""
    row = await conn.fetchrow(
        "UPDATE accounts SET balance = balance - $3 "
        "WHERE tenant_id = $1 AND advocate_id = $2 AND balance >= $3 RETURNING balance",
        tenant_id,
        advocate_id,
        cost,
    )
    return row is not None


async def refund(conn: asyncpg.Connection, tenant_id: str, advocate_id: str, cost: int) -> None:
    await conn.execute(
        "UPDATE accounts SET balance = balance + $3 WHERE tenant_id = $1 AND advocate_id = $2",
        tenant_id,
        advocate_id,
        cost,
    )


async def insert_redemption(
    conn: asyncpg.Connection,
    tenant_id: str,
    advocate_id: str,
    item_id: int,
    cost: int,
    idempotency_key: str | None,
) -> Any:
    """The new redemption, or None when this idempotency key was used before."""
    return await conn.fetchrow(
        "INSERT INTO redemptions (tenant_id, advocate_id, item_id, cost, state, idempotency_key) "
        "VALUES ($1, $2, $3, $4, 'requested', $5) ON CONFLICT DO NOTHING "
        "RETURNING *",
        tenant_id,
        advocate_id,
        item_id,
        cost,
        idempotency_key,
    )


async def by_key(db: Any, tenant_id: str, advocate_id: str, idempotency_key: str) -> Any:
    return await db.fetchrow(
        "SELECT * FROM redemptions WHERE tenant_id = $1 "
        "AND advocate_id = $2 AND idempotency_key = $3",
        tenant_id,
        advocate_id,
        idempotency_key,
    )


async def get(db: Any, tenant_id: str, redemption_id: int) -> Any:
    return await db.fetchrow(
        "SELECT * FROM redemptions WHERE tenant_id = $1 AND id = $2",
        tenant_id,
        redemption_id,
    )


async def transition(
    conn: asyncpg.Connection, tenant_id: str, redemption_id: int, to: str, by: str
) -> Any:
    """Move a requested redemption to `to`; None if it is not (or no longer) requested."""
    return await conn.fetchrow(
        "UPDATE redemptions SET state = $3, updated_at = now(), updated_by = $4 "
        "WHERE tenant_id = $1 AND id = $2 AND state = 'requested' "
        "RETURNING *",
        tenant_id,
        redemption_id,
        to,
        by,
    )


async def listing(
    db: Any, tenant_id: str, advocate_id: str | None, state: str | None, limit: int
) -> list[Any]:
    rows: list[Any] = await db.fetch(
        "SELECT * FROM redemptions WHERE tenant_id = $1 "
        "AND ($2::text IS NULL OR advocate_id = $2) AND ($3::text IS NULL OR state = $3) "
        "ORDER BY id DESC LIMIT $4",
        tenant_id,
        advocate_id,
        state,
        limit,
    )
    return rows
