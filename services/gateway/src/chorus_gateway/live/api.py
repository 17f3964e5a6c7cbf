"""`GET /v1/leaderboards/stream`: live leaderboard changes as Server-Sent Events.

Each event names the boards that changed (`<metric>:<scope>:<period bucket>`, as
the rewards API spells them) so the client re-reads only those. Advocate ids are
shown to admins and API keys; other people learn only whether their own standing
changed (`me`), which keeps anonymous leaderboards anonymous. Reconnecting with
`Last-Event-ID` replays what was missed from a per-tenant buffer; when that is
too old, a `reset` event tells the client to re-read everything.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from chorus_platform.identity import Role
from fastapi import APIRouter, Header, Path, Query
from fastapi.responses import StreamingResponse

from chorus_gateway.auth.principal import Principal
from chorus_gateway.deps import Caller, Runtime
from chorus_gateway.live.hub import Entry, LeaderboardHub, Listener

router = APIRouter(prefix="/v1/leaderboards", tags=["live leaderboards"])
ScopeQ = Annotated[
    str | None,
    Query(max_length=160, description="tenant, team:<id> or tag:<#hashtag>", examples=["tenant"]),
]
SSE_EXAMPLE = (
    "id: 1764201600000-0\nevent: leaderboard-change\n"
    'data: {"boards":["points:tenant:all"],"advocates":["p_1"],"at":"2026-11-27T00:00:00Z"}\n\n'
)


def _event(entry: Entry, caller: Principal, prefix: str) -> str | None:
    entry_id, raw = entry
    notice: dict[str, Any] = json.loads(raw)
    boards = [b for b in notice.get("boards", []) if b.startswith(prefix)]
    if not boards:
        return None
    advocates: list[str] = notice.get("advocates", [])
    body: dict[str, Any] = {"boards": boards, "at": notice.get("at")}
    if caller.is_person and Role.ADMIN not in caller.roles:
        body["me"] = caller.principal_id in advocates
    else:
        body["advocates"] = advocates
        body["advocates_truncated"] = notice.get("advocates_truncated", False)
    data = json.dumps(body, separators=(",", ":"))
    return f"id: {entry_id}\nevent: leaderboard-change\ndata: {data}\n\n"


async def _events(
    hub: LeaderboardHub, listener: Listener, caller: Principal, prefix: str, keepalive: float
) -> AsyncIterator[str]:
    try:
        yield "retry: 2000\n\n"
        if listener.missed:
            yield 'event: reset\ndata: {"reason":"events were missed; re-read the boards"}\n\n'
        for replayed in listener.replay:
            event = _event(replayed, caller, prefix)
            if event:
                yield event
        while True:
            try:
                entry: Entry | None = await asyncio.wait_for(listener.queue.get(), keepalive)
            except TimeoutError:
                yield ": keepalive\n\n"
                continue
            if entry is None:
                return
            event = _event(entry, caller, prefix)
            if event:
                yield event
    finally:
        hub.leave(listener)


async def _stream(
    rt: Runtime, caller: Principal, prefix: str, last_event_id: str | None
) -> StreamingResponse:
    listener = await rt.hub.join(caller.tenant_id, last_event_id)
    keepalive = rt.settings.stream_keepalive_seconds
    return StreamingResponse(
        _events(rt.hub, listener, caller, prefix, keepalive),
        media_type="text/event-stream",
        headers={"cache-control": "no-cache", "x-accel-buffering": "no"},
    )


_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "An event stream", "content": {"text/event-stream": {
        "schema": {"type": "string"}, "example": SSE_EXAMPLE}}},
}  # fmt: skip


@router.get("/stream", response_class=StreamingResponse, responses=_RESPONSES)
async def stream_all(
    caller: Caller,
    rt: Runtime,
    last_event_id: Annotated[str | None, Header(max_length=64)] = None,
) -> StreamingResponse:
    """Changes of every leaderboard of the caller's tenant."""
    return await _stream(rt, caller, "", last_event_id)


@router.get("/{metric}/stream", response_class=StreamingResponse, responses=_RESPONSES)
async def stream_metric(
    metric: Annotated[str, Path(pattern=r"^[a-z_]{1,32}$", examples=["points"])],
    caller: Caller,
    rt: Runtime,
    scope: ScopeQ = None,
    last_event_id: Annotated[str | None, Header(max_length=64)] = None,
) -> StreamingResponse:
    """Changes of one metric's boards (points, engagement, reach), optionally one scope."""
    prefix = f"{metric}:{scope}:" if scope else f"{metric}:"
    return await _stream(rt, caller, prefix, last_event_id)
