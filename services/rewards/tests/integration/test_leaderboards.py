"""Live leaderboards against an independent computation; replay, corrections, rebuild, check."""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from chorus_devstack.waiting import eventually
from chorus_platform.identity import Identity, Role
from chorus_rewards.boards import Metric, ScopeKind
from chorus_rewards.leaderboards import BoardQuery
from chorus_rewards.periods import Period
from chorus_rewards.rebuild import check_tenant, rebuild_tenant
from redis.asyncio import Redis

from .conftest import RewardsApp
from .expected import BoardId, ExpectedRewards
from .streams import ShareCounter, generate_stream, produce, record, share_posted

ZONE = "America/New_York"  # the stream spans the end of DST on 1 November


def _params(board: BoardId) -> dict[str, str]:
    _metric, scope, period, first = board
    params = {"period": period, "limit": "100"}
    if scope != "tenant":
        kind, _, scope_id = scope.partition(":")
        params |= {"scope": "team" if kind == "team" else "hashtag", "scope_id": scope_id}
    if first is not None:
        params["date"] = first.isoformat()
    return params


async def _board(rewards: RewardsApp, tenant: str, board: BoardId) -> list[tuple[str, int]]:
    resp = await rewards.client.get(
        f"/v1/rewards/leaderboards/{board[0]}",
        params=_params(board),
        headers=rewards.headers(tenant),
    )
    assert resp.status_code == 200, resp.text
    return [(e["advocate_id"], e["value"]) for e in resp.json()["entries"]]


def _query(board: BoardId) -> BoardQuery:
    metric, scope, period, first = board
    kind, _, scope_id = scope.partition(":")
    scope_kind = {"tenant": ScopeKind.TENANT, "team": ScopeKind.TEAM, "tag": ScopeKind.HASHTAG}
    return BoardQuery(Metric(metric), scope_kind[kind], scope_id or None, Period(period), first)


async def _mismatches(rewards: RewardsApp, tenant: str, expected: ExpectedRewards) -> list[str]:
    """Every board through the service layer (the API's code minus HTTP), a sample of each
    scope kind and period through HTTP, and every balance."""
    boards = expected.boards()
    viewer = Identity(tenant_id=tenant, principal_id="admin-1", roles=frozenset({Role.ADMIN}))
    wrong = []
    sampled: set[tuple[str, str]] = set()
    for board, want in boards.items():
        page = await rewards.runtime.leaderboards.top(viewer, _query(board), 100, 0, True)
        have = [(e.advocate_id, e.value) for e in page.entries]
        kind = (board[1].partition(":")[0], board[2])
        if kind not in sampled:
            sampled.add(kind)
            assert await _board(rewards, tenant, board) == have
        if want != have:
            wrong.append(f"{board}: want {want} got {have}")
    for advocate, balance in expected.balances().items():
        resp = await rewards.client.get(
            f"/v1/rewards/accounts/{advocate}", headers=rewards.headers(tenant)
        )
        if resp.json()["balance"] != balance:
            wrong.append(f"balance {advocate}: want {balance} got {resp.json()['balance']}")
    return wrong


async def _tenant_keys(redis: Redis, tenant: str) -> dict[str, list[tuple[str, float]]]:
    keys = [k async for k in redis.scan_iter(match=f"chorus:rewards:{{{tenant}}}:*")]
    return {k: await redis.zrange(k, 0, -1, withscores=True) for k in keys}


async def _ledger_rows(rewards: RewardsApp, tenant: str) -> int:
    count: int = await rewards.runtime.ctx.pool.fetchval(
        "SELECT count(*) FROM ledger WHERE tenant_id = $1", tenant
    )
    return count


async def _cli(redis_url: str, dsn: str, *args: str) -> tuple[int, str]:
    env = os.environ | {"CHORUS_DATABASE_URL": dsn, "CHORUS_REDIS_URL": redis_url}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "chorus_rewards", *args, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode()


async def test_generated_stream_ranks_like_the_model_and_survives_replay_wipe_and_rebuild(
    rewards: RewardsApp, kafka_bootstrap: str, redis_url: str, postgres_dsn: str, tenant: str
) -> None:
    c, admin = rewards.client, rewards.headers(tenant)
    body = {"time_zone": ZONE, "anonymous_leaderboards": False}
    assert (await c.put("/v1/rewards/settings", json=body, headers=admin)).status_code == 200
    now = datetime.now(UTC)
    stream = generate_stream(tenant, seed=7, now=now)
    expected = ExpectedRewards(ZoneInfo(ZONE))
    for event in stream:
        expected.apply(event)
    records = [record(rewards.settings.topic_prefix, e) for e in stream]
    await produce(kafka_bootstrap, records)

    async def ledger_complete() -> bool:
        return await _ledger_rows(rewards, tenant) == len(expected.entries)

    await eventually(ledger_complete, what=f"{len(expected.entries)} ledger entries")

    async def matches() -> bool:
        return not await _mismatches(rewards, tenant, expected)

    await eventually(matches, timeout=15, interval=0.2, what="boards equal to the model")
    boards = expected.boards()
    periods = {b[2] for b in boards}
    scopes = {b[1].partition(":")[0] for b in boards}
    assert periods == {"all", "month", "week", "day"} and scopes == {"tenant", "team", "tag"}
    assert len({b[3] for b in boards if b[2] == "month"}) == 2, "the stream spans two months"

    # rank and window of every advocate on the all-time points board
    ranking = boards[("points", "tenant", "all", None)]
    for i, (advocate, value) in enumerate(ranking):
        resp = await c.get(
            f"/v1/rewards/leaderboards/points/advocates/{advocate}",
            params={"window": "1"},
            headers=admin,
        )
        found = resp.json()
        assert (found["rank"], found["value"]) == (i + 1, value)
        assert [w["advocate_id"] for w in found["window"]] == [
            a for a, _ in ranking[max(i - 1, 0) : i + 2]
        ]

    # replaying the whole stream (same event ids) changes nothing
    redis = rewards.runtime.ctx.redis
    before = await _tenant_keys(redis, tenant)
    # Every ledger consumer of the app (`consumer_instances`): each skips its partitions'.
    runners = rewards.runtime.ctx.extras["consumers"]

    def skipped() -> int:
        return sum(r.stats.duplicates for r in runners)

    duplicates = skipped()
    await produce(kafka_bootstrap, records)

    async def replayed() -> bool:
        return skipped() >= duplicates + len(records)

    await eventually(replayed, what="the replay to be consumed")
    assert await _ledger_rows(rewards, tenant) == len(expected.entries)
    assert await _tenant_keys(redis, tenant) == before
    assert not await _mismatches(rewards, tenant, expected)

    # wipe this tenant's Redis keys; the rebuild command restores identical rankings
    await redis.delete(*before)
    assert (await _board(rewards, tenant, ("points", "tenant", "all", None))) == []
    code, out = await _cli(redis_url, postgres_dsn, "rebuild", "--tenant", tenant)
    assert code == 0, out
    assert await _tenant_keys(redis, tenant) == before
    code, out = await _cli(redis_url, postgres_dsn, "check", "--tenant", tenant)
    assert code == 0 and "OK" in out, out

    # drift is reported, and repaired by a rebuild
    key = next(k for k in before if ":lb:points:tenant:all" in k)
    await redis.zadd(key, {ranking[-1][0]: -1e12})
    pool = rewards.runtime.ctx.pool
    drift = await check_tenant(pool, redis, tenant)
    assert [p for p in drift.problems if key in p], drift.problems
    await rebuild_tenant(pool, redis, tenant)
    assert await _tenant_keys(redis, tenant) == before
    assert not (await check_tenant(pool, redis, tenant)).problems


async def test_a_fraud_correction_lowers_points_and_rank(
    rewards: RewardsApp, kafka_bootstrap: str, tenant: str
) -> None:
    prefix, admin = rewards.settings.topic_prefix, rewards.headers(tenant)
    # Yesterday mid-morning: the shares, their clicks and the correction all fall on
    # one day whatever the time of the run (two hours back could straddle midnight).
    at = datetime.now(UTC).replace(hour=10, minute=0, second=0, microsecond=0) - timedelta(days=1)
    counters = {}
    events: list[Any] = []
    for advocate, clicks in (("ann", 100), ("ben", 60), ("cat", 30)):
        share = share_posted(tenant, advocate, at, hashtags=("#Launch",))
        counters[advocate] = ShareCounter(share)
        events += [share, counters[advocate].update(at + timedelta(minutes=1), clicks=clicks)]
    await produce(kafka_bootstrap, [record(prefix, e) for e in events])

    async def top() -> list[tuple[str, int]]:
        resp = await rewards.client.get(
            "/v1/rewards/leaderboards/points",
            params={
                "scope": "hashtag",
                "scope_id": "launch",
                "period": "day",
                "date": at.date().isoformat(),
            },
            headers=admin,
        )
        return [(e["advocate_id"], e["value"]) for e in resp.json()["entries"]]

    async def ranked(want: list[tuple[str, int]]) -> bool:
        return await top() == want

    await eventually(lambda: ranked([("ann", 110), ("ben", 70), ("cat", 40)]), what="ranking")
    fraud = counters["ann"].update(at + timedelta(minutes=30), clicks=-70)
    await produce(kafka_bootstrap, [record(prefix, fraud)])
    # ann falls to 40 and ties with cat, who reached 40 first
    await eventually(lambda: ranked([("ben", 70), ("cat", 40), ("ann", 40)]), what="correction")
    ann = await rewards.client.get("/v1/rewards/accounts/ann", headers=admin)
    assert ann.json()["balance"] == 40


async def test_anonymous_boards_hide_other_names_from_non_admins(
    rewards: RewardsApp, kafka_bootstrap: str, tenant: str
) -> None:
    c, admin = rewards.client, rewards.headers(tenant)
    body = {"time_zone": "UTC", "anonymous_leaderboards": True}
    assert (await c.put("/v1/rewards/settings", json=body, headers=admin)).status_code == 200
    at = datetime.now(UTC) - timedelta(hours=1)
    shares = [share_posted(tenant, a, at) for a in ("dee", "eve", "fay")]
    await produce(kafka_bootstrap, [record(rewards.settings.topic_prefix, s) for s in shares])

    async def three() -> bool:
        resp = await c.get("/v1/rewards/leaderboards/points", headers=admin)
        return len(resp.json()["entries"]) == 3

    await eventually(three, what="three advocates on the board")
    eve = rewards.advocate(tenant, "eve")
    seen = (await c.get("/v1/rewards/leaderboards/points", headers=eve)).json()["entries"]
    assert [e["advocate_id"] for e in seen] == [None, "eve", None]
    assert [e["you"] for e in seen] == [False, True, False]
    own = await c.get("/v1/rewards/leaderboards/points/advocates/eve", headers=eve)
    assert own.json()["rank"] == 2
    other = await c.get("/v1/rewards/leaderboards/points/advocates/dee", headers=eve)
    assert other.status_code == 403
    names = (await c.get("/v1/rewards/leaderboards/points", headers=admin)).json()["entries"]
    assert [e["advocate_id"] for e in names] == ["dee", "eve", "fay"]
