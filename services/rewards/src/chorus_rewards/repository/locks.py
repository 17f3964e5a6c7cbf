"""Tenant-wide advisory locks: consumers share them, a rebuild or check takes one alone.

The rebuild reads the whole ledger of a tenant and replaces its Redis boards; a
consumer batch committing in the middle would be half in, half out. Consumer
transactions hold the tenant's lock shared (they never block each other) and a
rebuild holds it exclusively, so a rebuild sees a ledger no batch is changing.
"""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

_NAMESPACE = "chorus-rewards-tenant:"


async def lock_tenants_shared(conn: asyncpg.Connection, tenant_ids: Sequence[str]) -> None:
    await conn.execute(
        "SELECT pg_advisory_xact_lock_shared(hashtextextended($2 || t, 0)) "
        "FROM unnest($1::text[]) AS t",
        list(tenant_ids),
        _NAMESPACE,
    )


async def lock_tenant_exclusive(conn: asyncpg.Connection, tenant_id: str) -> None:
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended($2 || $1, 0))", tenant_id, _NAMESPACE
    )
