"""The leaderboard reads' pipelined Redis connection: order, lost scripts, lost connections."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from chorus_rewards.redis_line import LineScript, RedisLine
from redis.asyncio import Redis
from redis.exceptions import ResponseError


@pytest.fixture
async def redis(redis_url: str) -> Redis:
    return Redis.from_url(redis_url, decode_responses=True)


async def test_concurrent_calls_each_get_their_own_reply(redis: Redis) -> None:
    key = f"test:line:{uuid.uuid4().hex}"
    await redis.zadd(key, {f"m{i}": i for i in range(200)})
    line = RedisLine.for_client(redis)
    assert line is not None
    try:
        ranks = await asyncio.gather(*(line.execute("ZRANK", key, f"m{i}") for i in range(200)))
        assert ranks == list(range(200))
        assert await line.execute("ZSCORE", key, "m7") == "7"
        assert await line.execute("ZRANK", key, "nobody") is None
        with pytest.raises(ResponseError, match="WRONGTYPE"):
            await line.execute("GET", key)
    finally:
        await line.close()
        await redis.delete(key)
        await redis.aclose()


async def test_a_script_the_server_forgot_is_sent_again(redis: Redis) -> None:
    line = RedisLine.for_client(redis)
    assert line is not None
    script = LineScript(line, f"return {{ARGV[1], '{uuid.uuid4().hex}'}}")
    try:
        assert (await script(keys=[], args=["a"]))[0] == "a"  # NOSCRIPT, then EVAL
        assert (await script(keys=[], args=["b"]))[0] == "b"  # cached by the server now
    finally:
        await line.close()
        await redis.aclose()


async def test_a_lost_connection_fails_its_calls_and_the_next_call_reconnects(
    redis: Redis,
) -> None:
    line = RedisLine.for_client(redis)
    assert line is not None
    try:
        first = await line.execute("CLIENT", "ID")
        waiting = asyncio.ensure_future(line.execute("BLPOP", f"test:line:{uuid.uuid4().hex}", 5))
        await asyncio.sleep(0.05)
        assert await redis.execute_command("CLIENT", "KILL", "ID", first) == 1
        with pytest.raises(ConnectionError):
            await asyncio.wait_for(waiting, 2)
        assert await line.execute("CLIENT", "ID") != first
    finally:
        await line.close()
        await redis.aclose()
