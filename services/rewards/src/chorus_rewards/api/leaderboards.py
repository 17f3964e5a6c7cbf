"""Live leaderboards: top N, an advocate's rank and score, the window around them."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import orjson
from chorus_platform.identity import CurrentIdentity
from chorus_platform.problems import UnprocessableEntity
from fastapi import APIRouter, Query, Response

from chorus_rewards.api.deps import Runtime, is_admin
from chorus_rewards.api.params import AdvocatePath
from chorus_rewards.boards import Metric, ScopeKind
from chorus_rewards.leaderboards import (
    AdvocateStanding,
    BoardPage,
    BoardQuery,
    Ranked,
    ResolvedBoard,
)
from chorus_rewards.periods import Period
from chorus_rewards.schemas import BoardPageOut, StandingOut

ScopeId = Annotated[str | None, Query(min_length=1, max_length=140)]
"""The team id or campaign hashtag of a team or hashtag board."""

router = APIRouter(prefix="/v1/rewards/leaderboards", tags=["rewards: leaderboards"])


@router.get("/{metric}", response_model=BoardPageOut)
async def top(
    identity: CurrentIdentity,
    rt: Runtime,
    metric: Metric,
    scope: ScopeKind = ScopeKind.TENANT,
    scope_id: ScopeId = None,
    period: Period = Period.ALL,
    date_: Annotated[date | None, Query(alias="date")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 10,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Response:
    """The ranking: value descending, then earliest to reach it, then advocate id."""
    q = board_query(metric, scope, scope_id, period, date_)
    page = await rt.leaderboards.top(
        identity, q, min(limit, rt.settings.leaderboard_max_limit), offset, is_admin(identity)
    )
    return _json(page_body(page))


@router.get("/{metric}/advocates/{advocate_id}", response_model=StandingOut)
async def standing(
    identity: CurrentIdentity,
    rt: Runtime,
    metric: Metric,
    advocate_id: AdvocatePath,
    scope: ScopeKind = ScopeKind.TENANT,
    scope_id: ScopeId = None,
    period: Period = Period.ALL,
    date_: Annotated[date | None, Query(alias="date")] = None,
    window: Annotated[int, Query(ge=0, le=50)] = 0,
) -> Response:
    """An advocate's rank and value (null when not on the board) and `window` neighbours
    on each side."""
    q = board_query(metric, scope, scope_id, period, date_)
    found = await rt.leaderboards.standing(identity, q, advocate_id, window, is_admin(identity))
    return _json(standing_body(found))


# The hottest routes of the service answer with JSON built here rather than through their
# response models (kept on the decorators for the OpenAPI document): validating and
# serialising pydantic models costs more per request than the Redis read itself (and
# orjson encodes the dicts several times faster than the standard library). The
# shapes are those of BoardPageOut and StandingOut (the API tests read them); the fast
# path (`api.fastpath`) answers with the same bodies.


def _json(body: bytes) -> Response:
    return Response(body, media_type="application/json")


def page_body(page: BoardPage) -> bytes:
    body = {"board": _board(page.board), "total": page.total, "entries": _ranked(page.entries)}
    return orjson.dumps(body)


def standing_body(found: AdvocateStanding) -> bytes:
    body = {
        "board": _board(found.board),
        "advocate_id": found.advocate_id,
        "rank": found.rank,
        "value": found.value,
        "window": _ranked(found.window),
    }
    return orjson.dumps(body)


def _board(b: ResolvedBoard) -> dict[str, Any]:
    return {
        "metric": b.metric.value,
        "scope": b.scope,
        "period": b.period.value,
        "bucket": b.bucket,
        "time_zone": b.time_zone,
    }


def _ranked(rows: list[Ranked]) -> list[dict[str, Any]]:
    return [
        {"rank": r.rank, "advocate_id": r.advocate_id, "value": r.value, "you": r.you} for r in rows
    ]


def board_query(
    metric: Metric, scope: ScopeKind, scope_id: str | None, period: Period, on: date | None
) -> BoardQuery:
    if scope is not ScopeKind.TENANT and scope_id is None:
        raise UnprocessableEntity(f"scope {scope.value} needs a scope_id", field="scope_id")
    return BoardQuery(metric, scope, scope_id, period, on)
