"""Units of work: one connection, one transaction, the repositories bound to it.

Use cases open one with `async with transaction(pool) as tx:` so a state change,
its audit entry and its event (outbox row) commit together or not at all.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import asyncpg
from chorus_events.contracts.registry import EventSpec
from chorus_events.outbox import append_event
from pydantic import BaseModel

from chorus_content.categories.repository import CategoryRepository
from chorus_content.guidelines.repository import GuidelinesRepository
from chorus_content.items.audit import AuditRepository
from chorus_content.items.repository import ItemRepository

EVENT_SOURCE = "/chorus/content"


class Tx:
    """The repositories of one transaction (or of one plain connection, for reads)."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn
        self.items = ItemRepository(conn)
        self.audit = AuditRepository(conn)
        self.categories = CategoryRepository(conn)
        self.guidelines = GuidelinesRepository(conn)

    async def now(self) -> datetime:
        """The database's clock at the start of the transaction (what the scheduler uses)."""
        value: datetime = await self.conn.fetchval("SELECT now()")
        return value

    async def emit(self, spec: EventSpec[Any], payload: BaseModel) -> str:
        return await append_event(self.conn, spec, payload, source=EVENT_SOURCE)


@contextlib.asynccontextmanager
async def transaction(pool: asyncpg.Pool) -> AsyncIterator[Tx]:
    async with pool.acquire() as conn, conn.transaction():
        yield Tx(conn)


@contextlib.asynccontextmanager
async def reading(pool: asyncpg.Pool) -> AsyncIterator[Tx]:
    """A connection for reads that need no transaction (one statement each)."""
    async with pool.acquire() as conn:
        yield Tx(conn)
