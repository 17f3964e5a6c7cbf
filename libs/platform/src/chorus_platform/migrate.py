"""Versioned SQL migrations, applied by a command and at service start-up.

Why a tiny runner and not yoyo/alembic: our services speak asyncpg only, yoyo
and alembic want a sync DB-API driver and bring a second connection stack; what
we need is small and easy to get right:

* A migration *set* is a directory of `NNNN_name.sql` files applied in order to
  one schema. A service applies the platform's sets (e.g. the outbox tables from
  `chorus_events`) and then its own, each tracked under its own component name.
* Each file runs in its own transaction together with its row in
  `<schema>.schema_migrations`, so a failure leaves nothing half-applied.
* A transaction-scoped advisory lock keyed by the schema serialises concurrent
  starters (several replicas booting at once apply each file exactly once).
* An applied file whose checksum changed is an error: migrations are immutable.

CLI: `python -m chorus_platform.migrate content sharing ...` applies each named
service's sets to the database in `CHORUS_DATABASE_URL`.
"""

from __future__ import annotations

import hashlib
import importlib
import logging
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import asyncpg

log = logging.getLogger(__name__)
_FILE = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
_SCHEMA = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


class MigrationError(Exception):
    pass


@dataclass(frozen=True)
class Migration:
    component: str
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


@dataclass(frozen=True)
class MigrationSet:
    """Migrations of one component (a lib or a service), read from a package directory."""

    component: str
    package: str = ""
    directory: str = "migrations"
    path: Path | None = None
    """A plain directory to read instead of package data (tests and tools)."""

    def load(self) -> list[Migration]:
        root = self.path or resources.files(self.package).joinpath(self.directory)
        found = []
        for entry in root.iterdir():
            match = _FILE.match(entry.name)
            if match:
                found.append(
                    Migration(self.component, int(match[1]), entry.name, entry.read_text("utf-8"))
                )
        found.sort(key=lambda m: m.version)
        versions = [m.version for m in found]
        if len(set(versions)) != len(versions):
            raise MigrationError(f"{self.component}: duplicate migration versions {versions}")
        return found


async def apply_migrations(conn: asyncpg.Connection, schema: str, sets: list[MigrationSet]) -> int:
    """Apply pending migrations of `sets` to `schema`; return how many were applied."""
    if not _SCHEMA.match(schema):
        raise MigrationError(f"invalid schema name {schema!r}")
    applied_count = 0
    for mset in sets:
        for migration in mset.load():
            async with conn.transaction():
                # Key the lock by schema so different services migrate in parallel.
                await conn.execute(
                    "SELECT pg_advisory_xact_lock(hashtext($1))", f"migrate:{schema}"
                )
                await conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
                await conn.execute(
                    f"""CREATE TABLE IF NOT EXISTS "{schema}".schema_migrations (
                        component text NOT NULL,
                        version int NOT NULL,
                        name text NOT NULL,
                        checksum text NOT NULL,
                        applied_at timestamptz NOT NULL DEFAULT now(),
                        PRIMARY KEY (component, version))"""
                )
                # Identifiers cannot be bind parameters; `schema` matched _SCHEMA above.
                row = await conn.fetchrow(
                    f'SELECT checksum FROM "{schema}".schema_migrations '
                    "WHERE component = $1 AND version = $2",
                    migration.component,
                    migration.version,
                )
                if row is not None:
                    if row["checksum"] != migration.checksum:
                        raise MigrationError(
                            f"{schema}: applied migration {migration.component}/{migration.name} "
                            "was modified; add a new migration instead"
                        )
                    continue
                await conn.execute(f'SET LOCAL search_path TO "{schema}", public')
                await conn.execute(migration.sql)
                await conn.execute(
                    f'INSERT INTO "{schema}".schema_migrations '
                    "(component, version, name, checksum) VALUES ($1, $2, $3, $4)",
                    migration.component,
                    migration.version,
                    migration.name,
                    migration.checksum,
                )
                applied_count += 1
                log.info(
                    "applied migration %s/%s to %s", migration.component, migration.name, schema
                )
    return applied_count


def service_migration_sets(service: str) -> list[MigrationSet]:
    """The sets a service declares in its composition root (`chorus_<service>.app.spec`)."""
    module = importlib.import_module(f"chorus_{service}.app")
    return list(module.spec.migrations)


async def migrate_services(dsn: str, services: list[str]) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        for service in services:
            count = await apply_migrations(conn, service, service_migration_sets(service))
            print(f"{service}: {count} migration(s) applied")
    finally:
        await conn.close()


def main(argv: list[str] | None = None) -> None:
    import argparse
    import asyncio

    from chorus_platform.settings import ServiceSettings

    parser = argparse.ArgumentParser(description="Apply Chorus database migrations")
    parser.add_argument("services", nargs="+", help="service names, e.g. content sharing")
    args = parser.parse_args(argv)
    asyncio.run(migrate_services(ServiceSettings().database_url, args.services))


if __name__ == "__main__":
    main()
