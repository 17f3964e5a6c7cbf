"""PostgreSQL access: one asyncpg pool per service, pinned to its own schema.

Each service owns one schema (`content`, `sharing`, ...) and never reads another
service's tables; setting `search_path` on every pooled connection keeps SQL in
repositories unqualified while making cross-schema reads impossible by accident.
"""

from __future__ import annotations

import json
from typing import Any

import asyncpg


async def _init_connection(conn: asyncpg.Connection) -> None:
    # jsonb <-> Python objects both ways, so repositories pass dicts, not strings.
    # Binary jsonb (a version byte, then the text) also serves COPY, whose binary
    # protocol has no text-format fallback.
    await conn.set_type_codec(
        "jsonb",
        encoder=lambda v: b"\x01" + json.dumps(v).encode(),
        decoder=lambda b: json.loads(b[1:]),
        schema="pg_catalog",
        format="binary",
    )
    await conn.set_type_codec("json", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Skip asyncpg's reset query on release: a round trip per request for nothing.

    Safe because nothing in Chorus keeps session state on pooled connections:
    advisory locks are transaction-scoped, LISTEN uses a dedicated connection and
    settings are fixed per pool (`server_settings`).
    """


async def create_pool(
    dsn: str, schema: str, *, min_size: int = 1, max_size: int = 10, **kwargs: Any
) -> asyncpg.Pool:
    """A pool whose connections see `schema` first (then `public`)."""
    pool = await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        init=_init_connection,
        reset=_keep_session,
        server_settings={"search_path": f"{schema},public", "application_name": f"chorus-{schema}"},
        **kwargs,
    )
    assert pool is not None
    return pool
