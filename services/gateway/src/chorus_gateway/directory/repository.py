"""The only place with SQL for the directory (tenant id in every WHERE)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg

from chorus_gateway.directory.cursor import Cursor

_PERSON = """
SELECT p.id, p.email, p.display_name, p.roles, p.enrolment, p.external_subject,
       p.password_hash, p.created_at, p.updated_at,
       COALESCE((SELECT array_agg(m.team_id ORDER BY m.team_id) FROM team_members m
                 WHERE m.tenant_id = p.tenant_id AND m.person_id = p.id), '{}') AS team_ids
FROM people p
"""

_KEY_COLUMNS = (
    "id, tenant_id, name, scopes, created_by, created_at, expires_at, revoked_at, "
    "last_used_at, replaced_by"
)


class DirectoryRepository:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    # -- tenants
    async def add_tenant(self, tenant_id: str, name: str, time_zone: str) -> asyncpg.Record:
        row: asyncpg.Record = await self.conn.fetchrow(
            "INSERT INTO tenants (id, name, time_zone) VALUES ($1, $2, $3) RETURNING *",
            tenant_id, name, time_zone,
        )  # fmt: skip
        return row

    async def tenant(self, tenant_id: str) -> asyncpg.Record | None:
        row: asyncpg.Record | None = await self.conn.fetchrow(
            "SELECT * FROM tenants WHERE id = $1", tenant_id
        )
        return row

    async def update_tenant(self, tenant_id: str, changes: dict[str, Any]) -> asyncpg.Record | None:
        # Column names come from the patch model's fields, never from the caller's text.
        sets = ", ".join(f"{column} = ${i}" for i, column in enumerate(changes, start=2))
        row: asyncpg.Record | None = await self.conn.fetchrow(
            f"UPDATE tenants SET {sets}, updated_at = now() WHERE id = $1 RETURNING *",  # noqa: S608
            tenant_id, *changes.values(),
        )  # fmt: skip
        return row

    # -- teams
    async def add_team(self, tenant_id: str, team_id: str, name: str) -> asyncpg.Record:
        row: asyncpg.Record = await self.conn.fetchrow(
            "INSERT INTO teams (tenant_id, id, name) VALUES ($1, $2, $3) RETURNING *",
            tenant_id, team_id, name,
        )  # fmt: skip
        return row

    async def team(self, tenant_id: str, team_id: str) -> asyncpg.Record | None:
        row: asyncpg.Record | None = await self.conn.fetchrow(
            "SELECT * FROM teams WHERE tenant_id = $1 AND id = $2", tenant_id, team_id
        )
        return row

    async def teams(self, tenant_id: str, after: Cursor | None, limit: int) -> list[asyncpg.Record]:
        rows: list[asyncpg.Record] = await self.conn.fetch(
            """SELECT * FROM teams WHERE tenant_id = $1
               AND ($2::timestamptz IS NULL OR (created_at, id) > ($2, $3))
               ORDER BY created_at, id LIMIT $4""",
            tenant_id, after and after.created_at, after and after.id, limit,
        )  # fmt: skip
        return rows

    async def rename_team(self, tenant_id: str, team_id: str, name: str) -> asyncpg.Record | None:
        row: asyncpg.Record | None = await self.conn.fetchrow(
            "UPDATE teams SET name = $3 WHERE tenant_id = $1 AND id = $2 RETURNING *",
            tenant_id, team_id, name,
        )  # fmt: skip
        return row

    async def delete_team(self, tenant_id: str, team_id: str) -> bool:
        done: str = await self.conn.execute(
            "DELETE FROM teams WHERE tenant_id = $1 AND id = $2", tenant_id, team_id
        )
        return done.endswith(" 1")

    # -- people
    async def add_person(self, tenant_id: str, person_id: str, fields: dict[str, Any]) -> None:
        await self.conn.execute(
            """INSERT INTO people (tenant_id, id, email, display_name, roles, enrolment,
                                   external_subject, password_hash)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8)""",
            tenant_id, person_id, fields["email"], fields["display_name"], fields["roles"],
            fields["enrolment"], fields["external_subject"], fields["password_hash"],
        )  # fmt: skip

    async def person(self, tenant_id: str, person_id: str) -> asyncpg.Record | None:
        row: asyncpg.Record | None = await self.conn.fetchrow(
            _PERSON + "WHERE p.tenant_id = $1 AND p.id = $2", tenant_id, person_id
        )
        return row

    async def person_by_email(self, tenant_id: str, email: str) -> asyncpg.Record | None:
        row: asyncpg.Record | None = await self.conn.fetchrow(
            _PERSON + "WHERE p.tenant_id = $1 AND p.email = $2", tenant_id, email
        )
        return row

    async def person_by_subject(self, tenant_id: str, subject: str) -> asyncpg.Record | None:
        row: asyncpg.Record | None = await self.conn.fetchrow(
            _PERSON + "WHERE p.tenant_id = $1 AND p.external_subject = $2", tenant_id, subject
        )
        return row

    async def people(
        self,
        tenant_id: str,
        after: Cursor | None,
        limit: int,
        *,
        role: str | None = None,
        team_id: str | None = None,
        enrolment: str | None = None,
    ) -> list[asyncpg.Record]:
        rows: list[asyncpg.Record] = await self.conn.fetch(
            _PERSON  # noqa: S608 (a constant prefix)
            + """WHERE p.tenant_id = $1
               AND ($2::timestamptz IS NULL OR (p.created_at, p.id) > ($2, $3))
               AND ($5::text IS NULL OR $5 = ANY (p.roles))
               AND ($6::text IS NULL OR EXISTS (SELECT 1 FROM team_members m
                    WHERE m.tenant_id = p.tenant_id AND m.person_id = p.id AND m.team_id = $6))
               AND ($7::text IS NULL OR p.enrolment = $7)
               ORDER BY p.created_at, p.id LIMIT $4""",
            tenant_id, after and after.created_at, after and after.id, limit,
            role, team_id, enrolment,
        )  # fmt: skip
        return rows

    async def update_person(self, tenant_id: str, person_id: str, changes: dict[str, Any]) -> bool:
        sets = "".join(f", {column} = ${i}" for i, column in enumerate(changes, start=3))
        done: str = await self.conn.execute(
            f"UPDATE people SET updated_at = now(){sets} "  # noqa: S608 (model field names)
            "WHERE tenant_id = $1 AND id = $2",
            tenant_id, person_id, *changes.values(),
        )  # fmt: skip
        return done.endswith(" 1")

    async def set_teams(self, tenant_id: str, person_id: str, team_ids: Sequence[str]) -> None:
        await self.conn.execute(
            "DELETE FROM team_members WHERE tenant_id = $1 AND person_id = $2",
            tenant_id, person_id,
        )  # fmt: skip
        await self.conn.executemany(
            "INSERT INTO team_members (tenant_id, team_id, person_id) VALUES ($1, $2, $3)",
            [(tenant_id, team_id, person_id) for team_id in dict.fromkeys(team_ids)],
        )

    async def delete_person(self, tenant_id: str, person_id: str) -> bool:
        done: str = await self.conn.execute(
            "DELETE FROM people WHERE tenant_id = $1 AND id = $2", tenant_id, person_id
        )
        return done.endswith(" 1")

    # -- API keys
    async def add_api_key(
        self,
        key_id: str,
        tenant_id: str,
        name: str,
        scopes: Sequence[str],
        secret_hash: bytes,
        created_by: str,
        expires_at: datetime | None,
    ) -> asyncpg.Record:
        row: asyncpg.Record = await self.conn.fetchrow(
            f"""INSERT INTO api_keys (id, tenant_id, name, scopes, secret_hash, created_by,
                                     expires_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {_KEY_COLUMNS}""",  # noqa: S608
            key_id, tenant_id, name, list(scopes), secret_hash, created_by, expires_at,
        )  # fmt: skip
        return row

    async def api_key(self, tenant_id: str, key_id: str) -> asyncpg.Record | None:
        row: asyncpg.Record | None = await self.conn.fetchrow(
            f"SELECT {_KEY_COLUMNS} FROM api_keys WHERE tenant_id = $1 AND id = $2",  # noqa: S608
            tenant_id, key_id,
        )  # fmt: skip
        return row

    async def api_keys(
        self, tenant_id: str, after: Cursor | None, limit: int
    ) -> list[asyncpg.Record]:
        rows: list[asyncpg.Record] = await self.conn.fetch(
            f"""SELECT {_KEY_COLUMNS} FROM api_keys WHERE tenant_id = $1
               AND ($2::timestamptz IS NULL OR (created_at, id) > ($2, $3))
               ORDER BY created_at, id LIMIT $4""",  # noqa: S608
            tenant_id, after and after.created_at, after and after.id, limit,
        )  # fmt: skip
        return rows

    async def end_api_key(
        self, tenant_id: str, key_id: str, *, expires_at: datetime | None, replaced_by: str | None
    ) -> asyncpg.Record | None:
        """Revoke now (`expires_at` None) or let the key lapse at `expires_at` (rotation)."""
        row: asyncpg.Record | None = await self.conn.fetchrow(
            f"""UPDATE api_keys SET
                  revoked_at = CASE WHEN $3::timestamptz IS NULL THEN now() ELSE revoked_at END,
                  expires_at = CASE WHEN $3::timestamptz IS NULL THEN expires_at
                                    ELSE LEAST(COALESCE(expires_at, $3), $3) END,
                  replaced_by = COALESCE($4, replaced_by)
               WHERE tenant_id = $1 AND id = $2 AND revoked_at IS NULL
               RETURNING {_KEY_COLUMNS}""",  # noqa: S608
            tenant_id, key_id, expires_at, replaced_by,
        )  # fmt: skip
        return row
