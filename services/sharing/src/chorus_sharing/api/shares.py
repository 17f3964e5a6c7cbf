"""`POST /v1/shares`, `GET /v1/shares`, `GET /v1/shares/{share_id}`."""

from __future__ import annotations

from typing import Annotated

from chorus_events.contracts.base import Network
from chorus_platform.identity import CurrentIdentity
from fastapi import APIRouter, Query, status

from chorus_sharing.api.deps import CallerToken, Person, Runtime, sees_whole_tenant
from chorus_sharing.domain import ShareState
from chorus_sharing.queries import ShareFilter
from chorus_sharing.schemas import ShareCreate, ShareCreated, ShareOut, SharePage
from chorus_sharing.service import ShareRequest

router = APIRouter(prefix="/v1", tags=["shares"])


@router.post("/shares", status_code=status.HTTP_201_CREATED, response_model=ShareCreated)
async def create_share(
    body: ShareCreate, caller: Person, token: CallerToken, runtime: Runtime
) -> ShareCreated:
    request = ShareRequest(
        content_id=body.content_id,
        network=body.network,
        caption=body.caption,
        scheduled_at=body.scheduled_at,
        audience_size=body.audience_size,
        via=body.via,
    )
    outcome = await runtime.shares.post_share(caller, token, request)
    created = ShareOut.of(outcome.share).model_dump()
    return ShareCreated(**created, warnings=list(outcome.warnings))


@router.get("/shares", response_model=SharePage)
async def list_shares(
    caller: CurrentIdentity,
    runtime: Runtime,
    advocate_id: Annotated[str | None, Query(max_length=128)] = None,
    content_id: Annotated[str | None, Query(max_length=64)] = None,
    network: Network | None = None,
    state: ShareState | None = None,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> SharePage:
    """The caller's shares; admins (and API keys with `sharing:read`) see the whole tenant."""
    page = await runtime.queries.shares(
        caller,
        whole_tenant=sees_whole_tenant(caller),
        limit=limit,
        filters=ShareFilter(advocate_id, content_id, network, state),
        cursor=cursor,
    )
    return SharePage(items=[ShareOut.of(s) for s in page.items], next_cursor=page.next_cursor)


@router.get("/shares/{share_id}", response_model=ShareOut)
async def get_share(share_id: str, caller: CurrentIdentity, runtime: Runtime) -> ShareOut:
    share = await runtime.queries.share(caller, share_id, whole_tenant=sees_whole_tenant(caller))
    return ShareOut.of(share)
