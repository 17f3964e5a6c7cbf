"""Which requests the leaderboard fast path takes: only those the routes surely accept."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from chorus_rewards.api.read_params import STANDING_ROUTE, TOP_ROUTE, BoardRead, parse_read
from chorus_rewards.boards import Metric, ScopeKind
from chorus_rewards.periods import Period

pytestmark = pytest.mark.unit


def scope(path: str, query: str = "", method: str = "GET", **extra: Any) -> dict[str, Any]:
    found = {"type": "http", "method": method, "path": path, "query_string": query.encode()}
    return found | extra


def test_a_top_read_with_every_parameter() -> None:
    found = parse_read(
        scope(
            "/v1/rewards/leaderboards/reach",
            "scope=hashtag&scope_id=%23Launch&period=week&date=2026-11-02&limit=25&offset=50"
            "&window=3&unknown=x",
        )
    )
    assert found == BoardRead(
        TOP_ROUTE, Metric.REACH, None, ScopeKind.HASHTAG, "#Launch", Period.WEEK,
        date(2026, 11, 2), limit=25, offset=50,
    )  # fmt: skip


def test_a_standing_read() -> None:
    found = parse_read(scope("/v1/rewards/leaderboards/points/advocates/adv-1.x_y", "window=50"))
    assert found == BoardRead(STANDING_ROUTE, Metric.POINTS, "adv-1.x_y", window=50)


@pytest.mark.parametrize(
    ("path", "query", "method"),
    [
        ("/v1/rewards/leaderboards/points", "", "POST"),
        ("/v1/rewards/leaderboards/points", "", "HEAD"),
        ("/v1/rewards/leaderboards/", "", "GET"),
        ("/v1/rewards/leaderboards/points/", "", "GET"),
        ("/v1/rewards/leaderboards/votes", "", "GET"),
        ("/v1/rewards/leaderboards/points/advocates/", "", "GET"),
        ("/v1/rewards/leaderboards/points/advocates/-lead", "", "GET"),
        ("/v1/rewards/leaderboards/points/advocates/adv\n", "", "GET"),
        ("/v1/rewards/leaderboards/points/advocates/" + "a" * 65, "", "GET"),
        ("/v1/rewards/leaderboards/points/advocates/a/b", "", "GET"),
        ("/v1/rewards/leaderboards/points/standing/a", "", "GET"),
        ("/v1/rewards/leaderboards/points", "limit=0", "GET"),
        ("/v1/rewards/leaderboards/points", "limit=1001", "GET"),
        ("/v1/rewards/leaderboards/points", "limit=+5", "GET"),
        ("/v1/rewards/leaderboards/points", "limit=%D9%A3", "GET"),  # an Arabic-Indic 3
        ("/v1/rewards/leaderboards/points", "limit=5&limit=6", "GET"),
        ("/v1/rewards/leaderboards/points", "offset=1000001", "GET"),
        ("/v1/rewards/leaderboards/points", "scope=org", "GET"),
        ("/v1/rewards/leaderboards/points", "scope_id=", "GET"),
        ("/v1/rewards/leaderboards/points", "scope_id=" + "x" * 141, "GET"),
        ("/v1/rewards/leaderboards/points", "period=year", "GET"),
        ("/v1/rewards/leaderboards/points", "date=2026-02-30", "GET"),
        ("/v1/rewards/leaderboards/points", "date=20261102", "GET"),
        ("/v1/rewards/leaderboards/points/advocates/a", "window=51", "GET"),
    ],
)
def test_anything_doubtful_is_left_to_the_routes(path: str, query: str, method: str) -> None:
    assert parse_read(scope(path, query, method)) is None


def test_a_mounted_app_is_left_to_the_routes() -> None:
    assert parse_read(scope("/v1/rewards/leaderboards/points", root_path="/api")) is None
