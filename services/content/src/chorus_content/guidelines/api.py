"""Routes of guidelines: `/v1/content/guidelines` (read, replace) and its check API."""

from __future__ import annotations

from fastapi import APIRouter

from chorus_content.db import reading, transaction
from chorus_content.deps import Admin, AnyRole, Context, Matchers
from chorus_content.guidelines.schemas import (
    CheckRequest,
    CheckResult,
    GuidelinesIn,
    GuidelinesOut,
)
from chorus_content.guidelines.service import check_text, replace_guidelines

router = APIRouter(prefix="/v1/content/guidelines", tags=["guidelines"])


@router.get("", response_model=GuidelinesOut)
async def get_guidelines(identity: AnyRole, ctx: Context) -> GuidelinesOut:
    """The tenant's content policy and brand style guide (version 0: none yet)."""
    async with reading(ctx.pool) as tx:
        return await tx.guidelines.get(identity.tenant_id)


@router.put("", response_model=GuidelinesOut)
async def put_guidelines(body: GuidelinesIn, identity: Admin, ctx: Context) -> GuidelinesOut:
    """Replace the whole document (admins); the next check on any replica uses it."""
    async with transaction(ctx.pool) as tx:
        return await replace_guidelines(tx, identity.tenant_id, body, identity.principal_id)


@router.post("/check", response_model=CheckResult)
async def check(
    body: CheckRequest, identity: AnyRole, ctx: Context, matchers: Matchers
) -> CheckResult:
    """Check any text (an item's body, an advocate's personal caption) against the
    guidelines. Offsets are code-point indices into `text`, end exclusive; `ok` is
    false iff a violation has severity "block"."""
    async with reading(ctx.pool) as tx:
        return await check_text(
            tx,
            matchers,
            identity.tenant_id,
            body.text,
            category=body.category,
            network=body.network,
        )
