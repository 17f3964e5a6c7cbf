"""Migrations: applied once, in order, atomically, concurrently safe, immutable once applied."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from chorus_platform.migrate import MigrationError, MigrationSet, apply_migrations

pytestmark = pytest.mark.integration


def dir_set(component: str, root: Path) -> MigrationSet:
    return MigrationSet(component, path=root)


@pytest.fixture
async def conn(postgres_dsn: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(postgres_dsn)
    try:
        yield connection
    finally:
        await connection.close()


def _write(root: Path, files: dict[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, sql in files.items():
        (root / name).write_text(sql)
    return root


async def test_applies_in_order_once_and_records_each(
    conn: asyncpg.Connection, tmp_path: Path
) -> None:
    schema = "m_" + uuid.uuid4().hex[:10]
    root = _write(
        tmp_path,
        {
            "0002_add_column.sql": "ALTER TABLE widgets ADD COLUMN colour text;",
            "0001_create.sql": "CREATE TABLE widgets (id int PRIMARY KEY);",
        },
    )
    assert await apply_migrations(conn, schema, [dir_set("w", root)]) == 2
    assert await apply_migrations(conn, schema, [dir_set("w", root)]) == 0
    rows = await conn.fetch(
        f'SELECT version, name FROM "{schema}".schema_migrations ORDER BY version'
    )
    assert [(r["version"], r["name"]) for r in rows] == [
        (1, "0001_create.sql"),
        (2, "0002_add_column.sql"),
    ]
    await conn.execute(f'INSERT INTO "{schema}".widgets (id, colour) VALUES (1, $1)', "red")


async def test_failed_migration_leaves_nothing_half_applied(
    conn: asyncpg.Connection, tmp_path: Path
) -> None:
    schema = "m_" + uuid.uuid4().hex[:10]
    root = _write(
        tmp_path,
        {
            "0001_create.sql": "CREATE TABLE a (id int);",
            "0002_broken.sql": "CREATE TABLE b (id int); SELECT no_such_function();",
        },
    )
    with pytest.raises(asyncpg.UndefinedFunctionError):
        await apply_migrations(conn, schema, [dir_set("w", root)])
    tables = {
        r["table_name"]
        for r in await conn.fetch(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = $1", schema
        )
    }
    assert tables == {"a", "schema_migrations"}, "0002 rolled back whole, 0001 kept"
    versions = await conn.fetch(f'SELECT version FROM "{schema}".schema_migrations')
    assert [r["version"] for r in versions] == [1]


async def test_an_applied_migration_may_not_change(
    conn: asyncpg.Connection, tmp_path: Path
) -> None:
    schema = "m_" + uuid.uuid4().hex[:10]
    root = _write(tmp_path, {"0001_create.sql": "CREATE TABLE a (id int);"})
    await apply_migrations(conn, schema, [dir_set("w", root)])
    (root / "0001_create.sql").write_text("CREATE TABLE a (id bigint);")
    with pytest.raises(MigrationError, match="was modified"):
        await apply_migrations(conn, schema, [dir_set("w", root)])


async def test_replicas_starting_together_apply_each_migration_once(
    postgres_dsn: str, tmp_path: Path
) -> None:
    schema = "m_" + uuid.uuid4().hex[:10]
    # Not idempotent on purpose: a second application would fail on the duplicate table.
    root = _write(
        tmp_path, {f"000{i}_t{i}.sql": f"CREATE TABLE t{i} (id int);" for i in range(1, 6)}
    )
    conns = [await asyncpg.connect(postgres_dsn) for _ in range(4)]
    try:
        applied = await asyncio.gather(
            *(apply_migrations(c, schema, [dir_set("w", root)]) for c in conns)
        )
    finally:
        for c in conns:
            await c.close()
    assert sum(applied) == 5


async def test_invalid_schema_names_are_refused(conn: asyncpg.Connection, tmp_path: Path) -> None:
    with pytest.raises(MigrationError, match="invalid schema"):
        await apply_migrations(conn, 'x"; DROP TABLE y; --', [])
