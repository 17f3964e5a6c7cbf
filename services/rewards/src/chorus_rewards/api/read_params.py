"""Recognising a well-formed leaderboard read from the raw ASGI scope (for `api.fastpath`).

`parse_read` returns None for anything it is not sure the routes would accept exactly
as given; such requests go through FastAPI, which validates (and rejects) them as
before. So the rules below may be stricter than the routes' parameters, never looser:
each parameter at most once, integers as plain ASCII digits within the routes' bounds,
dates as `YYYY-MM-DD`, ids matched whole (Python's `$` would accept a trailing newline
that the routes' pattern refuses).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from urllib.parse import parse_qsl

from starlette.types import Scope

from chorus_rewards.boards import Metric, ScopeKind
from chorus_rewards.limits import ID_MAX_LENGTH
from chorus_rewards.periods import Period

PREFIX = "/v1/rewards/leaderboards/"
TOP_ROUTE = "/v1/rewards/leaderboards/{metric}"
STANDING_ROUTE = "/v1/rewards/leaderboards/{metric}/advocates/{advocate_id}"
_ADVOCATE = re.compile(rf"[A-Za-z0-9][A-Za-z0-9._-]{{0,{ID_MAX_LENGTH - 1}}}")
_DIGITS = re.compile(r"[0-9]{1,7}")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_METRICS = {m.value: m for m in Metric}
_SCOPES = {s.value: s for s in ScopeKind}
_PERIODS = {p.value: p for p in Period}
# The routes' query parameters and their bounds (api.leaderboards).
_TOP_KEYS = frozenset({"scope", "scope_id", "period", "date", "limit", "offset"})
_STANDING_KEYS = frozenset({"scope", "scope_id", "period", "date", "window"})
_INT_BOUNDS = {"limit": (1, 1000), "offset": (0, 1_000_000), "window": (0, 50)}
_SCOPE_ID_MAX = 140


@dataclass(frozen=True)
class BoardRead:
    route: str
    metric: Metric
    advocate_id: str | None
    """None for a top-N read."""
    scope: ScopeKind = ScopeKind.TENANT
    scope_id: str | None = None
    period: Period = Period.ALL
    on: date | None = None
    limit: int = 10
    offset: int = 0
    window: int = 0


def parse_read(scope: Scope) -> BoardRead | None:
    """The leaderboard read `scope` asks for, or None (not one, or not surely valid)."""
    path: str = scope["path"]
    if scope["method"] != "GET" or not path.startswith(PREFIX) or scope.get("root_path"):
        return None
    parts = path[len(PREFIX) :].split("/")
    metric = _METRICS.get(parts[0])
    if metric is None:
        return None
    if len(parts) == 1:
        route, advocate, keys = TOP_ROUTE, None, _TOP_KEYS
    elif len(parts) == 3 and parts[1] == "advocates" and _ADVOCATE.fullmatch(parts[2]):
        route, advocate, keys = STANDING_ROUTE, parts[2], _STANDING_KEYS
    else:
        return None
    values: dict[str, object] = {}
    for key, value in parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True):
        if key not in keys:
            continue  # the routes ignore parameters they do not declare
        field = "on" if key == "date" else key
        parsed = _param(key, value)
        if parsed is None or field in values:
            return None
        values[field] = parsed
    return BoardRead(route, metric, advocate, **values)  # type: ignore[arg-type]


def _param(key: str, value: str) -> object | None:
    if key == "scope":
        return _SCOPES.get(value)
    if key == "period":
        return _PERIODS.get(value)
    if key == "scope_id":
        return value if 1 <= len(value) <= _SCOPE_ID_MAX else None
    if key == "date":
        if not _DATE.fullmatch(value):
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    if not _DIGITS.fullmatch(value):
        return None
    low, high = _INT_BOUNDS[key]
    number = int(value)
    return number if low <= number <= high else None
