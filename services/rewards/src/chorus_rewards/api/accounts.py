"""Balances and ledger history: an advocate's own, or anyone's for admins."""

from __future__ import annotations

from typing import Annotated

from chorus_platform.identity import CurrentIdentity
from fastapi import APIRouter, Query

from chorus_rewards.api.deps import Runtime, may_see_advocate
from chorus_rewards.api.params import AdvocatePath, BeforeId
from chorus_rewards.repository import accounts as repo
from chorus_rewards.repository.badges import badges_of
from chorus_rewards.schemas import AccountOut, BadgeOut, LedgerEntryOut, LedgerPage

router = APIRouter(prefix="/v1/rewards/accounts", tags=["rewards: accounts"])


@router.get("/{advocate_id}", response_model=AccountOut)
async def get_account(
    advocate_id: AdvocatePath, identity: CurrentIdentity, rt: Runtime
) -> AccountOut:
    may_see_advocate(identity, advocate_id)
    row = await repo.account(rt.ctx.pool, identity.tenant_id, advocate_id)
    if row is None:  # an advocate without activity simply has nothing yet
        return AccountOut(advocate_id=advocate_id, balance=0, earned=0, shares=0, streak_weeks=0)
    return AccountOut(advocate_id=advocate_id, **dict(row))


@router.get("/{advocate_id}/ledger", response_model=LedgerPage)
async def get_ledger(
    advocate_id: AdvocatePath,
    identity: CurrentIdentity,
    rt: Runtime,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    before_id: BeforeId = None,
) -> LedgerPage:
    """The advocate's entries, newest first: every point traceable to its event and rule."""
    may_see_advocate(identity, advocate_id)
    rows = await repo.entries(rt.ctx.pool, identity.tenant_id, advocate_id, limit, before_id)
    entries = [LedgerEntryOut(**dict(r)) for r in rows]
    more = len(entries) == limit
    return LedgerPage(entries=entries, next_before_id=entries[-1].id if more else None)


@router.get("/{advocate_id}/badges", response_model=list[BadgeOut])
async def get_badges(
    advocate_id: AdvocatePath, identity: CurrentIdentity, rt: Runtime
) -> list[BadgeOut]:
    """Badges are public within the tenant (they are meant to be shown off)."""
    rows = await badges_of(rt.ctx.pool, identity.tenant_id, advocate_id)
    return [BadgeOut(**dict(r)) for r in rows]
