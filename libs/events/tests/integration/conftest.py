"""Fixtures for backbone tests against the real Kafka and PostgreSQL.

Each test gets its own schema (with the backbone's tables and an `effects` table
without a unique constraint, so a double effect shows up as a second row), its
own topic and event type, and its own consumer group: tests never see each
other's events.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
from chorus_events.bus import ensure_topics
from chorus_events.testkit import EFFECTS_DDL, Backbone, ping_spec
from chorus_events.workers import EVENTS_MIGRATIONS
from chorus_platform.db import create_pool
from chorus_platform.migrate import apply_migrations


@pytest.fixture
async def backbone(postgres_dsn: str, kafka_bootstrap: str) -> AsyncIterator[Backbone]:
    schema = "t_" + uuid.uuid4().hex[:12]
    conn = await asyncpg.connect(postgres_dsn)
    try:
        await apply_migrations(conn, schema, [EVENTS_MIGRATIONS])
        await conn.execute(f'SET search_path TO "{schema}"')
        await conn.execute(EFFECTS_DDL)
    finally:
        await conn.close()
    pool = await create_pool(postgres_dsn, schema, min_size=1, max_size=8)
    topic = f"test.{schema}"
    await ensure_topics(kafka_bootstrap, [topic, topic + ".dlq"], partitions=3)
    try:
        yield Backbone(postgres_dsn, schema, pool, kafka_bootstrap, ping_spec(topic))
    finally:
        await pool.close()
        conn = await asyncpg.connect(postgres_dsn)
        try:
            await conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        finally:
            await conn.close()
