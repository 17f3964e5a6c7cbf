"""`/v1/directory/...`: the tenant's settings, teams, people and API keys (admins).

Who may call each route is the gateway policy's (`routing.policy`); these
handlers always work inside the caller's own tenant, so another tenant's ids
are simply not found.
"""

from __future__ import annotations

from typing import Annotated

from chorus_platform.identity import Role
from chorus_platform.problems import Forbidden
from fastapi import APIRouter, Path, Query, Response, status

from chorus_gateway.auth.principal import Principal
from chorus_gateway.deps import Caller, Runtime
from chorus_gateway.directory.schemas import (
    ID_PATTERN,
    ApiKeyCreated,
    ApiKeyIn,
    ApiKeyOut,
    ApiKeyPage,
    Enrolment,
    PasswordIn,
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

router = APIRouter(prefix="/v1/directory", tags=["directory"])
IdPath = Annotated[str, Path(min_length=1, max_length=64, pattern=ID_PATTERN)]
CursorQ = Annotated[str | None, Query(max_length=200, description="next_cursor of the last page")]
LimitQ = Annotated[int, Query(ge=1, le=200)]


def _no_escalation_by_key(caller: Principal, roles: list[Role], password: bool) -> None:
    """A key with `directory:write` manages people, but cannot mint an admin it could
    then sign in as: granting admin and setting passwords are for people only."""
    if caller.is_person:
        return
    if Role.ADMIN in roles or password:
        raise Forbidden("API keys cannot grant the admin role or set passwords")


@router.get("/tenant", response_model=TenantOut)
async def get_tenant(caller: Caller, rt: Runtime) -> TenantOut:
    return await rt.directory.tenant(caller.tenant_id)


@router.patch("/tenant", response_model=TenantOut)
async def patch_tenant(body: TenantPatch, caller: Caller, rt: Runtime) -> TenantOut:
    """Name, time zone (IANA) and the tenant's rate limit per caller."""
    return await rt.directory.update_tenant(caller.tenant_id, body)


@router.get("/me", response_model=PersonOut)
async def me(caller: Caller, rt: Runtime) -> PersonOut:
    """The signed-in person's own directory entry."""
    return await rt.directory.person(caller.tenant_id, caller.principal_id)


@router.get("/teams", response_model=TeamPage)
async def list_teams(
    caller: Caller, rt: Runtime, cursor: CursorQ = None, limit: LimitQ = 50
) -> TeamPage:
    return await rt.directory.teams(caller.tenant_id, cursor, limit)


@router.post("/teams", status_code=status.HTTP_201_CREATED, response_model=TeamOut)
async def create_team(body: TeamIn, caller: Caller, rt: Runtime) -> TeamOut:
    return await rt.directory.create_team(caller.tenant_id, body)


@router.get("/teams/{team_id}", response_model=TeamOut)
async def get_team(team_id: IdPath, caller: Caller, rt: Runtime) -> TeamOut:
    return await rt.directory.team(caller.tenant_id, team_id)


@router.put("/teams/{team_id}", response_model=TeamOut)
async def rename_team(team_id: IdPath, body: TeamIn, caller: Caller, rt: Runtime) -> TeamOut:
    return await rt.directory.rename_team(caller.tenant_id, team_id, body)


@router.delete("/teams/{team_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_team(team_id: IdPath, caller: Caller, rt: Runtime) -> Response:
    await rt.directory.delete_team(caller.tenant_id, team_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/people", response_model=PersonPage)
async def list_people(
    caller: Caller,
    rt: Runtime,
    role: Role | None = None,
    team: Annotated[str | None, Query(max_length=64, pattern=ID_PATTERN)] = None,
    enrolment: Enrolment | None = None,
    cursor: CursorQ = None,
    limit: LimitQ = 50,
) -> PersonPage:
    """Oldest first; filter by role, team membership or enrolment state."""
    return await rt.directory.people(
        caller.tenant_id, cursor, limit,
        role=role.value if role else None, team_id=team,
        enrolment=enrolment.value if enrolment else None,
    )  # fmt: skip


@router.post("/people", status_code=status.HTTP_201_CREATED, response_model=PersonOut)
async def create_person(body: PersonIn, caller: Caller, rt: Runtime) -> PersonOut:
    _no_escalation_by_key(caller, body.roles, body.password is not None)
    return await rt.directory.create_person(caller.tenant_id, body)


@router.get("/people/{person_id}", response_model=PersonOut)
async def get_person(person_id: IdPath, caller: Caller, rt: Runtime) -> PersonOut:
    return await rt.directory.person(caller.tenant_id, person_id)


@router.patch("/people/{person_id}", response_model=PersonOut)
async def patch_person(
    person_id: IdPath, body: PersonPatch, caller: Caller, rt: Runtime
) -> PersonOut:
    """Roles, teams (the list replaces the memberships), enrolment, SSO subject."""
    if person_id == caller.principal_id and body.roles is not None and Role.ADMIN not in body.roles:
        raise Forbidden("admins cannot remove their own admin role")
    _no_escalation_by_key(caller, body.roles or [], False)
    return await rt.directory.update_person(caller.tenant_id, person_id, body)


@router.delete("/people/{person_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_person(person_id: IdPath, caller: Caller, rt: Runtime) -> Response:
    if person_id == caller.principal_id:
        raise Forbidden("admins cannot delete themselves")
    await rt.directory.delete_person(caller.tenant_id, person_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.put("/people/{person_id}/password", status_code=status.HTTP_204_NO_CONTENT)
async def set_password(
    person_id: IdPath, body: PasswordIn, caller: Caller, rt: Runtime
) -> Response:
    """Set a person's password for the built-in login (e.g. an initial one)."""
    await rt.directory.set_password(caller.tenant_id, person_id, body.password)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/api-keys", response_model=ApiKeyPage)
async def list_api_keys(
    caller: Caller, rt: Runtime, cursor: CursorQ = None, limit: LimitQ = 50
) -> ApiKeyPage:
    return await rt.directory.api_keys(caller.tenant_id, cursor, limit)


@router.post("/api-keys", status_code=status.HTTP_201_CREATED, response_model=ApiKeyCreated)
async def create_api_key(body: ApiKeyIn, caller: Caller, rt: Runtime) -> ApiKeyCreated:
    """The key (`secret`) is in this response only: it is stored hashed."""
    return await rt.directory.create_api_key(caller.tenant_id, caller.principal_id, body)


@router.get("/api-keys/{key_id}", response_model=ApiKeyOut)
async def get_api_key(key_id: IdPath, caller: Caller, rt: Runtime) -> ApiKeyOut:
    return await rt.directory.api_key(caller.tenant_id, key_id)


@router.post("/api-keys/{key_id}/rotate", status_code=status.HTTP_201_CREATED,
             response_model=ApiKeyCreated)  # fmt: skip
async def rotate_api_key(
    key_id: IdPath, caller: Caller, rt: Runtime, body: RotateIn | None = None
) -> ApiKeyCreated:
    """A new key with the same name and scopes; the old one works for `grace_seconds`."""
    return await rt.directory.rotate_api_key(
        caller.tenant_id, key_id, caller.principal_id, body or RotateIn()
    )


@router.delete("/api-keys/{key_id}", response_model=ApiKeyOut)
async def revoke_api_key(key_id: IdPath, caller: Caller, rt: Runtime) -> ApiKeyOut:
    """Revoke at once (within `principal_cache_seconds` on other gateway replicas)."""
    return await rt.directory.revoke_api_key(caller.tenant_id, key_id)
