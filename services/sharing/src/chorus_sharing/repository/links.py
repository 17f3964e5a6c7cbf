"""The redirect's read path: a tracked link by its code (global: the code is the key)."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg


@dataclass(frozen=True)
class LinkTarget:
    tenant_id: str
    share_id: str
    code: str
    destination_url: str


class PgLinkDirectory:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def find(self, code: str) -> LinkTarget | None:
        row = await self.pool.fetchrow(
            "SELECT tenant_id, share_id, destination_url FROM shares WHERE link_code = $1", code
        )
        if row is None:
            return None
        return LinkTarget(row["tenant_id"], row["share_id"], code, row["destination_url"])
