"""Live leaderboards over SSE: notices from rewards' pub/sub, replay with Last-Event-ID."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from chorus_gateway.live.relay import NoticeRelay, stream_key
from chorus_gateway.runtime import GatewayRuntime
from redis.asyncio import Redis

from .conftest import Tenant


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url, decode_responses=True)
    yield client
    await client.aclose()


async def publish(redis: Redis, tenant_id: str, boards: list[str], advocates: list[str]) -> None:
    notice = {"tenant_id": tenant_id, "boards": boards, "advocates": advocates,
              "advocates_truncated": False, "at": uuid.uuid4().hex}  # fmt: skip
    await redis.publish(f"chorus:rewards:{{{tenant_id}}}:leaderboard-changes", json.dumps(notice))


async def events(answer: httpx.Response) -> AsyncIterator[dict[str, Any]]:
    event: dict[str, Any] = {}
    async for line in answer.aiter_lines():
        if not line:
            if "data" in event:
                yield event
            event = {}
            continue
        name, _, value = line.partition(": ")
        if name in ("id", "event"):
            event[name] = value
        elif name == "data":
            event["data"] = json.loads(value)


async def next_event(stream: AsyncIterator[dict[str, Any]]) -> dict[str, Any]:
    return await asyncio.wait_for(anext(stream), timeout=5)


async def test_changes_stream_and_replay_after_reconnect(
    tenant: Tenant, gateway_url: str, redis: Redis, runtime: GatewayRuntime
) -> None:
    await asyncio.wait_for(runtime.relay.subscribed.wait(), 5)
    url = f"{gateway_url}/v1/leaderboards/stream"
    async with httpx.AsyncClient(timeout=10) as http:
        async with http.stream("GET", url, headers=tenant.admin) as answer:
            assert answer.status_code == 200
            assert answer.headers["content-type"].startswith("text/event-stream")
            stream = events(answer)
            await asyncio.sleep(0.2)  # the hub now reads this tenant's buffer
            published = time.monotonic()
            await publish(redis, tenant.id, ["points:tenant:all"], ["p_1", "p_2"])
            first = await next_event(stream)
            assert time.monotonic() - published < 1.0  # "within a second" of the notice
        assert first["event"] == "leaderboard-change"
        assert first["data"]["boards"] == ["points:tenant:all"]
        assert first["data"]["advocates"] == ["p_1", "p_2"]

        # Disconnected: two more changes happen meanwhile.
        await publish(redis, tenant.id, ["points:team:sales:all"], ["p_3"])
        await publish(redis, tenant.id, ["reach:tenant:all"], ["p_1"])

        async def buffered() -> bool:
            return int(await redis.xlen(stream_key(tenant.id))) == 3

        for _ in range(50):
            if await buffered():
                break
            await asyncio.sleep(0.05)
        headers = {**tenant.admin, "Last-Event-ID": first["id"]}
        async with http.stream("GET", url, headers=headers) as answer:
            stream = events(answer)
            missed = [await next_event(stream), await next_event(stream)]
    assert [e["data"]["boards"] for e in missed] == [
        ["points:team:sales:all"],
        ["reach:tenant:all"],
    ]
    assert missed[0]["id"] > first["id"]


async def test_people_see_only_whether_they_changed_and_filters_apply(
    tenant: Tenant, gateway_url: str, redis: Redis, runtime: GatewayRuntime
) -> None:
    await asyncio.wait_for(runtime.relay.subscribed.wait(), 5)
    person = await tenant.person("advocate")
    headers = await tenant.login(person["email"])
    url = f"{gateway_url}/v1/leaderboards/points/stream?scope=tenant"
    async with httpx.AsyncClient(timeout=10) as http, http.stream("GET", url, headers=headers) as a:
        assert a.status_code == 200
        stream = events(a)
        await asyncio.sleep(0.2)
        await publish(redis, tenant.id, ["reach:tenant:all"], [person["id"]])  # filtered out
        await publish(redis, tenant.id, ["points:tenant:all", "points:team:x:all"], [person["id"]])
        event = await next_event(stream)
    assert event["data"] == {"boards": ["points:tenant:all"], "at": event["data"]["at"], "me": True}


async def test_a_notice_heard_by_two_replicas_is_buffered_once(
    redis: Redis, runtime: GatewayRuntime
) -> None:
    tenant_id = f"t-{uuid.uuid4().hex[:8]}"
    other_replica = NoticeRelay(redis, 100)
    notice = json.dumps({"tenant_id": tenant_id, "boards": ["points:tenant:all"]})
    await asyncio.gather(
        runtime.relay.append(tenant_id, notice), other_replica.append(tenant_id, notice)
    )
    assert await redis.xlen(stream_key(tenant_id)) == 1


async def test_streams_need_a_reader(tenant: Tenant) -> None:
    key = await tenant.key("content:read")
    answer = await tenant.client.get("/v1/leaderboards/stream", headers=key)
    assert answer.status_code == 403
