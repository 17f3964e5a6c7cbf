"""Directory use cases: no HTTP here; SQL stays in the repository.

Every change that can alter what a credential may do (roles, teams, enrolment,
passwords, keys) calls `on_change`, so this replica's authentication caches
forget at once; other replicas follow within `principal_cache_seconds`.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from chorus_platform.problems import Conflict, NotFound, UnprocessableEntity

from chorus_gateway.auth import apikeys
from chorus_gateway.auth.passwords import hash_password
from chorus_gateway.directory.cursor import Cursor, decode_cursor, encode_cursor
from chorus_gateway.directory.repository import DirectoryRepository
from chorus_gateway.directory.schemas import (
    ApiKeyCreated,
    ApiKeyIn,
    ApiKeyOut,
    ApiKeyPage,
    PersonIn,
    PersonOut,
    PersonPage,
    PersonPatch,
    RotateIn,
    TeamIn,
    TeamOut,
    TeamPage,
    TenantOut,
    TenantPatch,
)


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(6)}"


def person_out(row: asyncpg.Record) -> PersonOut:
    return PersonOut(
        id=row["id"], email=row["email"], display_name=row["display_name"],
        roles=sorted(row["roles"]), team_ids=list(row["team_ids"]), enrolment=row["enrolment"],
        external_subject=row["external_subject"], has_password=row["password_hash"] is not None,
        created_at=row["created_at"], updated_at=row["updated_at"],
    )  # fmt: skip


def key_out(row: asyncpg.Record) -> ApiKeyOut:
    fields = dict(row)
    fields.pop("tenant_id", None)
    return ApiKeyOut(**{**fields, "scopes": sorted(row["scopes"])})


def _next(rows: list[asyncpg.Record], limit: int) -> str | None:
    if len(rows) < limit:
        return None
    return encode_cursor(Cursor(rows[-1]["created_at"], rows[-1]["id"]))


class DirectoryService:
    def __init__(self, pool: asyncpg.Pool, pepper: bytes, on_change: Callable[[], None]) -> None:
        self.pool = pool
        self.pepper = pepper
        self.on_change = on_change

    @contextlib.asynccontextmanager
    async def _tx(self) -> AsyncIterator[DirectoryRepository]:
        try:
            async with self.pool.acquire() as conn, conn.transaction():
                yield DirectoryRepository(conn)
        except asyncpg.UniqueViolationError as exc:
            raise Conflict(f"already exists: {exc.detail or exc}") from exc
        except asyncpg.ForeignKeyViolationError as exc:
            raise UnprocessableEntity("unknown team in team_ids", field="team_ids") from exc
        except asyncpg.CharacterNotInRepertoireError as exc:  # a NUL the schemas let through
            raise UnprocessableEntity("text must not contain NUL characters") from exc

    # -- tenant
    async def tenant(self, tenant_id: str) -> TenantOut:
        async with self._tx() as repo:
            row = await repo.tenant(tenant_id)
        if row is None:
            raise NotFound("no such tenant")
        return TenantOut(**dict(row))

    async def update_tenant(self, tenant_id: str, patch: TenantPatch) -> TenantOut:
        changes = patch.model_dump(exclude_unset=True)
        if not changes:
            return await self.tenant(tenant_id)
        async with self._tx() as repo:
            row = await repo.update_tenant(tenant_id, changes)
        if row is None:
            raise NotFound("no such tenant")
        self.on_change()
        return TenantOut(**dict(row))

    # -- teams
    async def create_team(self, tenant_id: str, body: TeamIn) -> TeamOut:
        async with self._tx() as repo:
            row = await repo.add_team(tenant_id, body.id or new_id("tm"), body.name)
        return TeamOut(**dict(row))

    async def team(self, tenant_id: str, team_id: str) -> TeamOut:
        async with self._tx() as repo:
            row = await repo.team(tenant_id, team_id)
        if row is None:
            raise NotFound("no such team")
        return TeamOut(**dict(row))

    async def teams(self, tenant_id: str, cursor: str | None, limit: int) -> TeamPage:
        async with self._tx() as repo:
            rows = await repo.teams(tenant_id, decode_cursor(cursor), limit)
        return TeamPage(items=[TeamOut(**dict(r)) for r in rows], next_cursor=_next(rows, limit))

    async def rename_team(self, tenant_id: str, team_id: str, body: TeamIn) -> TeamOut:
        async with self._tx() as repo:
            row = await repo.rename_team(tenant_id, team_id, body.name)
        if row is None:
            raise NotFound("no such team")
        return TeamOut(**dict(row))

    async def delete_team(self, tenant_id: str, team_id: str) -> None:
        async with self._tx() as repo:
            if not await repo.delete_team(tenant_id, team_id):
                raise NotFound("no such team")
        self.on_change()

    # -- people
    async def create_person(self, tenant_id: str, body: PersonIn) -> PersonOut:
        person_id = body.id or new_id("p")
        fields: dict[str, Any] = body.model_dump(exclude={"password", "team_ids", "id"})
        fields["roles"] = sorted({r.value for r in body.roles})
        fields["password_hash"] = await hash_password(body.password) if body.password else None
        async with self._tx() as repo:
            await repo.add_person(tenant_id, person_id, fields)
            await repo.set_teams(tenant_id, person_id, body.team_ids)
            row = await repo.person(tenant_id, person_id)
        assert row is not None
        return person_out(row)

    async def person(self, tenant_id: str, person_id: str) -> PersonOut:
        async with self._tx() as repo:
            row = await repo.person(tenant_id, person_id)
        if row is None:
            raise NotFound("no such person")
        return person_out(row)

    async def people(
        self, tenant_id: str, cursor: str | None, limit: int, **filters: str | None
    ) -> PersonPage:
        async with self._tx() as repo:
            rows = await repo.people(tenant_id, decode_cursor(cursor), limit, **filters)
        return PersonPage(items=[person_out(r) for r in rows], next_cursor=_next(rows, limit))

    async def update_person(self, tenant_id: str, person_id: str, patch: PersonPatch) -> PersonOut:
        changes = patch.model_dump(exclude_unset=True, exclude={"team_ids"})
        if "roles" in changes:
            if not changes["roles"]:
                raise UnprocessableEntity("a person needs at least one role", field="roles")
            changes["roles"] = sorted({r.value for r in changes["roles"]})
        async with self._tx() as repo:
            if not await repo.update_person(tenant_id, person_id, changes):
                raise NotFound("no such person")
            if patch.team_ids is not None:
                await repo.set_teams(tenant_id, person_id, patch.team_ids)
            row = await repo.person(tenant_id, person_id)
        assert row is not None
        self.on_change()
        return person_out(row)

    async def delete_person(self, tenant_id: str, person_id: str) -> None:
        async with self._tx() as repo:
            if not await repo.delete_person(tenant_id, person_id):
                raise NotFound("no such person")
        self.on_change()

    async def set_password(self, tenant_id: str, person_id: str, password: str) -> None:
        hashed = await hash_password(password)
        async with self._tx() as repo:
            if not await repo.update_person(tenant_id, person_id, {"password_hash": hashed}):
                raise NotFound("no such person")

    # -- API keys
    async def create_api_key(
        self, tenant_id: str, created_by: str, body: ApiKeyIn
    ) -> ApiKeyCreated:
        if body.expires_at is not None and body.expires_at <= datetime.now(UTC):
            raise UnprocessableEntity("expires_at is in the past", field="expires_at")
        async with self._tx() as repo:
            return await self._add_key(repo, tenant_id, created_by, body.name, body.scopes,
                                       body.expires_at)  # fmt: skip

    async def _add_key(
        self,
        repo: DirectoryRepository,
        tenant_id: str,
        created_by: str,
        name: str,
        scopes: list[str],
        expires_at: datetime | None,
    ) -> ApiKeyCreated:
        key_id, whole = apikeys.new_key()
        row = await repo.add_api_key(
            key_id, tenant_id, name, scopes, apikeys.hash_key(self.pepper, whole), created_by,
            expires_at,
        )  # fmt: skip
        return ApiKeyCreated(**key_out(row).model_dump(), secret=whole)

    async def api_key(self, tenant_id: str, key_id: str) -> ApiKeyOut:
        async with self._tx() as repo:
            row = await repo.api_key(tenant_id, key_id)
        if row is None:
            raise NotFound("no such API key")
        return key_out(row)

    async def api_keys(self, tenant_id: str, cursor: str | None, limit: int) -> ApiKeyPage:
        async with self._tx() as repo:
            rows = await repo.api_keys(tenant_id, decode_cursor(cursor), limit)
        return ApiKeyPage(items=[key_out(r) for r in rows], next_cursor=_next(rows, limit))

    async def rotate_api_key(
        self, tenant_id: str, key_id: str, created_by: str, body: RotateIn
    ) -> ApiKeyCreated:
        """A new key with the same name and scopes; the old one lapses after the grace."""
        async with self._tx() as repo:
            old = await repo.api_key(tenant_id, key_id)
            if old is None:
                raise NotFound("no such API key")
            if old["revoked_at"] is not None:
                raise Conflict("a revoked key cannot be rotated")
            new = await self._add_key(repo, tenant_id, created_by, old["name"],
                                      list(old["scopes"]), old["expires_at"])  # fmt: skip
            lapse = datetime.now(UTC) + timedelta(seconds=body.grace_seconds)
            await repo.end_api_key(tenant_id, key_id, expires_at=lapse, replaced_by=new.id)
        self.on_change()
        return new

    async def revoke_api_key(self, tenant_id: str, key_id: str) -> ApiKeyOut:
        async with self._tx() as repo:
            row = await repo.end_api_key(tenant_id, key_id, expires_at=None, replaced_by=None)
            if row is None:
                found = await repo.api_key(tenant_id, key_id)
                if found is None:
                    raise NotFound("no such API key")
                row = found  # already revoked: revoking again changes nothing
        self.on_change()
        return key_out(row)
