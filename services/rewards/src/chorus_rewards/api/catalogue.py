"""Rewards catalogue (admin-managed) and redemptions with their fulfilment states."""

from __future__ import annotations

from typing import Annotated

from chorus_platform.identity import CurrentIdentity
from chorus_platform.problems import Forbidden, NotFound
from fastapi import APIRouter, Header, Query, Response, status

from chorus_rewards.api.deps import Admin, Runtime, is_admin, may_see_advocate
from chorus_rewards.api.params import AdvocateQuery, RowId
from chorus_rewards.redemption import RedemptionState
from chorus_rewards.repository import catalogue as repo
from chorus_rewards.schemas import ItemChange, ItemOut, NewItem, RedeemBody, RedemptionOut

router = APIRouter(prefix="/v1/rewards", tags=["rewards: catalogue and redemptions"])


@router.post("/catalogue", response_model=ItemOut, status_code=status.HTTP_201_CREATED)
async def create_item(body: NewItem, identity: Admin, rt: Runtime) -> ItemOut:
    row = await repo.create_item(
        rt.ctx.pool, identity.tenant_id, body.name, body.description, body.cost, body.stock
    )
    return ItemOut(**dict(row))


@router.get("/catalogue", response_model=list[ItemOut])
async def list_items(
    identity: CurrentIdentity, rt: Runtime, include_inactive: bool = False
) -> list[ItemOut]:
    everything = include_inactive and is_admin(identity)
    return [
        ItemOut(**dict(r)) for r in await repo.items(rt.ctx.pool, identity.tenant_id, everything)
    ]


@router.patch("/catalogue/{item_id}", response_model=ItemOut)
async def change_item(item_id: RowId, body: ItemChange, identity: Admin, rt: Runtime) -> ItemOut:
    changes = body.model_dump(exclude={"restock"}, exclude_none=True)
    row = await repo.update_item(rt.ctx.pool, identity.tenant_id, item_id, changes, body.restock)
    if row is None:
        raise NotFound(f"no catalogue item {item_id}")
    return ItemOut(**dict(row))


@router.post("/redemptions", response_model=RedemptionOut, status_code=status.HTTP_201_CREATED)
async def redeem(
    body: RedeemBody,
    identity: CurrentIdentity,
    rt: Runtime,
    response: Response,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> RedemptionOut:
    """Redeem one unit for the caller: 409 out-of-stock or insufficient-points otherwise.
    Repeating a request with the same `Idempotency-Key` returns the first result (200)."""
    done = await rt.redemptions.redeem(
        identity.tenant_id, identity.principal_id, body.item_id, idempotency_key
    )
    if done.replayed:
        response.status_code = status.HTTP_200_OK
    return RedemptionOut(**dict(done.redemption))


@router.get("/redemptions", response_model=list[RedemptionOut])
async def list_redemptions(
    identity: CurrentIdentity,
    rt: Runtime,
    advocate_id: AdvocateQuery = None,
    state: RedemptionState | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[RedemptionOut]:
    """Admins see everyone's (optionally one advocate's); advocates see their own."""
    if not is_admin(identity):
        advocate_id = advocate_id or identity.principal_id
        may_see_advocate(identity, advocate_id)
    rows = await repo.listing(
        rt.ctx.pool, identity.tenant_id, advocate_id, state.value if state else None, limit
    )
    return [RedemptionOut(**dict(r)) for r in rows]


@router.post("/redemptions/{redemption_id}/fulfil", response_model=RedemptionOut)
async def fulfil(redemption_id: RowId, identity: Admin, rt: Runtime) -> RedemptionOut:
    row = await rt.redemptions.fulfil(identity.tenant_id, redemption_id, identity.principal_id)
    return RedemptionOut(**dict(row))


@router.post("/redemptions/{redemption_id}/cancel", response_model=RedemptionOut)
async def cancel(redemption_id: RowId, identity: CurrentIdentity, rt: Runtime) -> RedemptionOut:
    """Admins cancel any requested redemption; advocates their own. Refunds the points."""
    if not is_admin(identity):
        found = await repo.get(rt.ctx.pool, identity.tenant_id, redemption_id)
        if found is None or found["advocate_id"] != identity.principal_id:
            raise Forbidden("you may only cancel your own redemptions")
    row = await rt.redemptions.cancel(identity.tenant_id, redemption_id, identity.principal_id)
    return RedemptionOut(**dict(row))
