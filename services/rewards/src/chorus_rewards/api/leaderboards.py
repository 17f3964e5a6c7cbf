"""Live leaderboards: top N, an advocate's rank and score, the window around them."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from chorus_platform.identity import CurrentIdentity
from fastapi import APIRouter, Query

from chorus_rewards.api.deps import Runtime, is_admin
from chorus_rewards.boards import Metric, ScopeKind
from chorus_rewards.leaderboards import BoardQuery
from chorus_rewards.periods import Period
from chorus_rewards.schemas import BoardOut, BoardPageOut, RankedOut, StandingOut

router = APIRouter(prefix="/v1/rewards/leaderboards", tags=["rewards: leaderboards"])


@router.get("/{metric}", response_model=BoardPageOut)
async def top(
    identity: CurrentIdentity,
    rt: Runtime,
    metric: Metric,
    scope: ScopeKind = ScopeKind.TENANT,
    scope_id: Annotated[str | None, Query(max_length=140)] = None,
    period: Period = Period.ALL,
    date_: Annotated[date | None, Query(alias="date")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 10,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> BoardPageOut:
    """The ranking: value descending, then earliest to reach it, then advocate id."""
    q = BoardQuery(metric, scope, scope_id, period, date_)
    page = await rt.leaderboards.top(
        identity, q, min(limit, rt.settings.leaderboard_max_limit), offset, is_admin(identity)
    )
    return BoardPageOut(
        board=BoardOut.of(page.board),
        total=page.total,
        entries=[RankedOut.of(r) for r in page.entries],
    )


@router.get("/{metric}/advocates/{advocate_id}", response_model=StandingOut)
async def standing(
    identity: CurrentIdentity,
    rt: Runtime,
    metric: Metric,
    advocate_id: str,
    scope: ScopeKind = ScopeKind.TENANT,
    scope_id: Annotated[str | None, Query(max_length=140)] = None,
    period: Period = Period.ALL,
    date_: Annotated[date | None, Query(alias="date")] = None,
    window: Annotated[int, Query(ge=0, le=50)] = 0,
) -> StandingOut:
    """An advocate's rank and value (null when not on the board) and `window` neighbours
    on each side."""
    q = BoardQuery(metric, scope, scope_id, period, date_)
    found = await rt.leaderboards.standing(identity, q, advocate_id, window, is_admin(identity))
    return StandingOut(
        board=BoardOut.of(found.board),
        advocate_id=found.advocate_id,
        rank=found.rank,
        value=found.value,
        window=[RankedOut.of(r) for r in found.window],
    )
