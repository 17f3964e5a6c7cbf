"""`GET/PUT /v1/sharing/policy`: the tenant's caps and duplicate rule (admins)."""

from __future__ import annotations

from typing import Annotated

from chorus_platform.identity import Identity, Role, require_roles
from fastapi import APIRouter, Depends

from chorus_sharing.api.deps import Runtime
from chorus_sharing.schemas import PolicyIn, PolicyOut

router = APIRouter(prefix="/v1/sharing", tags=["policy"])
Admin = Annotated[Identity, Depends(require_roles(Role.ADMIN))]


@router.get("/policy", response_model=PolicyOut)
async def get_policy(caller: Admin, runtime: Runtime) -> PolicyOut:
    return PolicyOut.of(await runtime.policies.current(caller.tenant_id))


@router.put("/policy", response_model=PolicyOut)
async def put_policy(body: PolicyIn, caller: Admin, runtime: Runtime) -> PolicyOut:
    saved = await runtime.policies.replace(caller, body.to_domain(caller.tenant_id))
    return PolicyOut.of(saved)
