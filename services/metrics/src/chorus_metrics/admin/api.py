"""Admin routes: `/v1/metrics/fraud-rules`, `/enrolment`, `/audiences`, fingerprints, post refs."""

from __future__ import annotations

from typing import Annotated

from chorus_platform.identity import Identity
from fastapi import APIRouter, Depends

from chorus_metrics.admin import service
from chorus_metrics.admin.schemas import (
    Accepted,
    AudiencesIn,
    FingerprintsIn,
    FraudRulesView,
    PostRefIn,
    PostRefView,
    ProgramIn,
    ProgramView,
)
from chorus_metrics.deps import Admin, Pool, ReadConn, admin_or_scope
from chorus_metrics.fraud.rules import FraudRules

router = APIRouter(prefix="/v1/metrics", tags=["metrics administration"])
Writer = Annotated[Identity, Depends(admin_or_scope("metrics:write"))]


@router.get("/fraud-rules", response_model=FraudRulesView)
async def get_fraud_rules(identity: Admin, conn: ReadConn) -> FraudRulesView:
    """The tenant's fraud rules (defaults until an admin sets them), each explained."""
    return await service.fraud_rules(conn, identity.tenant_id)


@router.put("/fraud-rules", response_model=FraudRulesView)
async def put_fraud_rules(body: FraudRules, identity: Admin, pool: Pool) -> FraudRulesView:
    """Replace the tenant's rules; they apply to engagement judged from now on."""
    async with pool.acquire() as conn, conn.transaction():
        return await service.replace_fraud_rules(
            conn, identity.tenant_id, body, identity.principal_id
        )


@router.get("/enrolment", response_model=ProgramView)
async def get_enrolment(identity: Admin, conn: ReadConn) -> ProgramView:
    return await service.program(conn, identity.tenant_id)


@router.put("/enrolment", response_model=ProgramView)
async def put_enrolment(body: ProgramIn, identity: Writer, pool: Pool) -> ProgramView:
    """Enrolled advocates (adoption rate denominator) and the tenant's KPI time zone.

    Interim: an admin sets them, or the gateway's directory pushes them with a
    service identity carrying `metrics:write`, until an event carries them.
    """
    async with pool.acquire() as conn, conn.transaction():
        return await service.replace_program(conn, identity.tenant_id, body)


@router.put("/audiences", response_model=Accepted)
async def put_audiences(body: AudiencesIn, identity: Writer, pool: Pool) -> Accepted:
    """Followers per advocate and network, for estimated reach."""
    async with pool.acquire() as conn, conn.transaction():
        count = await service.replace_audiences(conn, identity.tenant_id, body.audiences)
    return Accepted(accepted=count)


@router.post("/advocate-fingerprints", response_model=Accepted)
async def post_fingerprints(body: FingerprintsIn, identity: Writer, pool: Pool) -> Accepted:
    """Visitor hashes seen on the advocate's own authenticated requests (self-click rule)."""
    async with pool.acquire() as conn, conn.transaction():
        count = await service.add_fingerprints(
            conn, identity.tenant_id, body.advocate_id, body.visitor_hashes
        )
    return Accepted(accepted=count)


@router.put("/shares/{share_id}/post-ref", response_model=PostRefView)
async def put_post_ref(share_id: str, body: PostRefIn, identity: Writer, pool: Pool) -> PostRefView:
    """The network's id of the share's post: connectors poll it, held engagement matches it."""
    async with pool.acquire() as conn, conn.transaction():
        return await service.set_post_ref(conn, identity.tenant_id, share_id, body)
