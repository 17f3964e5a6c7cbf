"""SQL of authentication: the rows a credential resolves to, and last-used times."""

from __future__ import annotations

from datetime import datetime

import asyncpg

_PERSON = """
SELECT p.tenant_id, p.id, p.email, p.roles, p.enrolment, p.password_hash,
       t.rate_limit_per_minute, t.rate_limit_burst,
       COALESCE((SELECT array_agg(m.team_id ORDER BY m.team_id) FROM team_members m
                 WHERE m.tenant_id = p.tenant_id AND m.person_id = p.id), '{}') AS team_ids
FROM people p JOIN tenants t ON t.id = p.tenant_id
"""


class AuthRepository:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def api_key(self, key_id: str) -> asyncpg.Record | None:
        row: asyncpg.Record | None = await self.pool.fetchrow(
            """SELECT k.id, k.tenant_id, k.scopes, k.secret_hash, k.expires_at, k.revoked_at,
                      t.rate_limit_per_minute, t.rate_limit_burst
               FROM api_keys k JOIN tenants t ON t.id = k.tenant_id WHERE k.id = $1""",
            key_id,
        )
        return row

    async def person_by_id(self, tenant_id: str, person_id: str) -> asyncpg.Record | None:
        row: asyncpg.Record | None = await self.pool.fetchrow(
            _PERSON + "WHERE p.tenant_id = $1 AND p.id = $2", tenant_id, person_id
        )
        return row

    async def person_by_subject(self, tenant_id: str, subject: str) -> asyncpg.Record | None:
        row: asyncpg.Record | None = await self.pool.fetchrow(
            _PERSON + "WHERE p.tenant_id = $1 AND p.external_subject = $2", tenant_id, subject
        )
        return row

    async def person_by_email(self, tenant_id: str, email: str) -> asyncpg.Record | None:
        row: asyncpg.Record | None = await self.pool.fetchrow(
            _PERSON + "WHERE p.tenant_id = $1 AND p.email = $2", tenant_id, email
        )
        return row

    async def mark_enrolled(self, tenant_id: str, person_id: str) -> None:
        """Signing in for the first time is what enrols an invited person."""
        await self.pool.execute(
            """UPDATE people SET enrolment = 'enrolled', updated_at = now()
               WHERE tenant_id = $1 AND id = $2 AND enrolment = 'invited'""",
            tenant_id, person_id,
        )  # fmt: skip

    async def set_password(self, tenant_id: str, person_id: str, password_hash: str) -> None:
        await self.pool.execute(
            "UPDATE people SET password_hash = $3, updated_at = now() "
            "WHERE tenant_id = $1 AND id = $2",
            tenant_id, person_id, password_hash,
        )  # fmt: skip

    async def touch_api_keys(self, used: dict[str, datetime]) -> None:
        """One statement for every key used since the last flush."""
        await self.pool.execute(
            """UPDATE api_keys k SET last_used_at = u.at
               FROM unnest($1::text[], $2::timestamptz[]) AS u(id, at)
               WHERE k.id = u.id AND (k.last_used_at IS NULL OR k.last_used_at < u.at)""",
            list(used), list(used.values()),
        )  # fmt: skip
