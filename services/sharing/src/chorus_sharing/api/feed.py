"""`GET /v1/feed`: what the calling advocate can share, newest first."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from chorus_sharing.api.deps import Person, Runtime
from chorus_sharing.schemas import FeedItemOut, FeedPage

router = APIRouter(prefix="/v1", tags=["feed"])


@router.get("/feed", response_model=FeedPage)
async def get_feed(
    caller: Person,
    runtime: Runtime,
    category: Annotated[str | None, Query(max_length=64)] = None,
    campaign: Annotated[
        str | None, Query(max_length=140, description="hashtag, '#' optional")
    ] = None,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> FeedPage:
    page = await runtime.queries.feed(
        caller, limit=limit, category=category, campaign=campaign, cursor=cursor
    )
    return FeedPage(items=[FeedItemOut.of(i) for i in page.items], next_cursor=page.next_cursor)
