"""The leaderboard reads' fast path answers exactly as the FastAPI routes behind it would.

Each case is asked twice: of the app (the fast path, outermost) and of the normal stack
it wraps; status, content type and body must be the same.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
from chorus_platform.identity import IDENTITY_HEADER
from chorus_rewards.api.fastpath import LeaderboardFastPath
from chorus_rewards.boards import Metric, board_key
from chorus_rewards.periods import Period
from chorus_rewards.scoring import encode_score
from prometheus_client import REGISTRY
from starlette.types import Receive, Scope, Send

from .conftest import RewardsApp

TOP = "/v1/rewards/leaderboards/{metric}"
STANDING = "/v1/rewards/leaderboards/{metric}/advocates/{advocate_id}"


@pytest.fixture
async def stack(rewards: RewardsApp) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the normal stack alone (what the fast path falls through to)."""
    await rewards.client.get("/healthz")  # the middleware stack is built on first use
    fast = rewards.app.middleware_stack
    assert isinstance(fast, LeaderboardFastPath)

    async def inner(scope: Scope, receive: Receive, send: Send) -> None:
        scope["app"] = rewards.app  # as Starlette sets it before its middleware stack
        await fast.app(scope, receive, send)

    transport = httpx.ASGITransport(app=inner)
    async with httpx.AsyncClient(transport=transport, base_url="http://service") as client:
        yield client


async def _seed(rewards: RewardsApp, tenant: str, members: int = 30) -> None:
    base = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp() * 1000)
    scores = {f"adv-{i:03d}": encode_score(i * 7 % 50, base + i, None) for i in range(members)}
    redis = rewards.runtime.ctx.redis
    await redis.zadd(board_key(tenant, Metric.POINTS, "tenant", Period.ALL, None), scores)
    await redis.zadd(board_key(tenant, Metric.POINTS, "team:t1", Period.ALL, None), scores)


async def _same(
    rewards: RewardsApp, stack: httpx.AsyncClient, path: str, headers: dict[str, str]
) -> httpx.Response:
    fast = await rewards.client.get(path, headers=headers)
    slow = await stack.get(path, headers=headers)
    assert (fast.status_code, fast.headers["content-type"]) == (
        slow.status_code,
        slow.headers["content-type"],
    ), (fast.text, slow.text)
    assert fast.json() == slow.json()
    assert fast.headers["x-request-id"]
    return fast


@pytest.mark.parametrize(
    "path",
    [
        "/v1/rewards/leaderboards/points",
        "/v1/rewards/leaderboards/points?limit=5&offset=3",
        "/v1/rewards/leaderboards/points?limit=1000",  # capped by leaderboard_max_limit
        "/v1/rewards/leaderboards/points?scope=team&scope_id=t1&limit=3",
        "/v1/rewards/leaderboards/points?period=week&date=2026-11-02",
        "/v1/rewards/leaderboards/reach?scope=hashtag&scope_id=%23Launch",
        "/v1/rewards/leaderboards/points/advocates/adv-010?window=2",
        "/v1/rewards/leaderboards/points/advocates/adv-000",
        "/v1/rewards/leaderboards/points/advocates/nobody",
        "/v1/rewards/leaderboards/points/advocates/adv-010?scope=team&scope_id=t1&window=50",
    ],
)
async def test_reads_answer_like_the_routes(
    rewards: RewardsApp, stack: httpx.AsyncClient, tenant: str, path: str
) -> None:
    await _seed(rewards, tenant)
    found = await _same(rewards, stack, path, rewards.headers(tenant))
    assert found.status_code == 200


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/v1/rewards/leaderboards/points?limit=0", 422),  # falls through: FastAPI's 422
        ("/v1/rewards/leaderboards/points?limit=10&limit=20", 200),  # falls through
        ("/v1/rewards/leaderboards/points?date=2026-02-30", 422),
        ("/v1/rewards/leaderboards/points?scope=team", 422),  # the use case's 422
        ("/v1/rewards/leaderboards/engagement?scope=team&scope_id=t1", 422),
        ("/v1/rewards/leaderboards/votes", 422),
        ("/v1/rewards/leaderboards/points/advocates/adv%0A", 422),
        ("/v1/rewards/leaderboards/points/advocates/adv-1?window=51", 422),
    ],
)
async def test_odd_requests_get_the_routes_answers(
    rewards: RewardsApp, stack: httpx.AsyncClient, tenant: str, path: str, status: int
) -> None:
    found = await _same(rewards, stack, path, rewards.headers(tenant))
    assert found.status_code == status


async def test_reads_need_a_valid_identity(
    rewards: RewardsApp, stack: httpx.AsyncClient, tenant: str
) -> None:
    path = "/v1/rewards/leaderboards/points/advocates/adv-001"
    missing = await _same(rewards, stack, path, {})
    assert missing.status_code == 401
    assert missing.headers["content-type"] == "application/problem+json"
    other = RewardsApp(rewards.app, rewards.client, rewards.settings, "not-the-secret")
    forged = await _same(rewards, stack, path, other.headers(tenant))
    assert forged.status_code == 401
    assert "bad signature" in forged.json()["detail"]
    bad = await _same(rewards, stack, path, {IDENTITY_HEADER: "x.y"})
    assert bad.status_code == 401


async def test_reads_are_scoped_to_the_callers_tenant(
    rewards: RewardsApp, stack: httpx.AsyncClient, tenant: str
) -> None:
    await _seed(rewards, tenant)
    mine = await _same(rewards, stack, "/v1/rewards/leaderboards/points", rewards.headers(tenant))
    assert mine.json()["total"] == 30
    elsewhere = rewards.headers(tenant + "-other")
    theirs = await _same(rewards, stack, "/v1/rewards/leaderboards/points", elsewhere)
    assert theirs.json()["total"] == 0 and theirs.json()["entries"] == []
    rank = "/v1/rewards/leaderboards/points/advocates/adv-001"
    assert (await _same(rewards, stack, rank, elsewhere)).json()["rank"] is None


async def test_anonymous_boards_hide_others_from_advocates(
    rewards: RewardsApp, stack: httpx.AsyncClient, tenant: str
) -> None:
    await _seed(rewards, tenant)
    body = {"time_zone": "UTC", "anonymous_leaderboards": True}
    put = await rewards.client.put(
        "/v1/rewards/settings", json=body, headers=rewards.headers(tenant)
    )
    assert put.status_code == 200
    me = rewards.advocate(tenant, "adv-005")
    others = await _same(rewards, stack, "/v1/rewards/leaderboards/points/advocates/adv-006", me)
    assert others.status_code == 403
    mine = await _same(rewards, stack, "/v1/rewards/leaderboards/points/advocates/adv-005", me)
    assert mine.json()["advocate_id"] == "adv-005"
    top = await _same(rewards, stack, "/v1/rewards/leaderboards/points?limit=30", me)
    shown = [e["advocate_id"] for e in top.json()["entries"]]
    assert shown.count(None) == 29 and "adv-005" in shown


async def test_reads_are_counted_in_the_http_metrics(rewards: RewardsApp, tenant: str) -> None:
    def count(route: str, status: str) -> float:
        labels = {"service": "rewards", "method": "GET", "route": route, "status": status}
        return REGISTRY.get_sample_value("chorus_http_requests_total", labels) or 0.0

    before = (count(TOP, "200"), count(STANDING, "200"), count(STANDING, "401"))
    headers = rewards.headers(tenant) | {"x-request-id": "req-fast-1"}
    top = await rewards.client.get("/v1/rewards/leaderboards/points", headers=headers)
    assert top.headers["x-request-id"] == "req-fast-1"
    await rewards.client.get("/v1/rewards/leaderboards/points/advocates/a1", headers=headers)
    await rewards.client.get("/v1/rewards/leaderboards/points/advocates/a1")
    after = (count(TOP, "200"), count(STANDING, "200"), count(STANDING, "401"))
    assert [a - b for a, b in zip(after, before, strict=True)] == [1, 1, 1]
