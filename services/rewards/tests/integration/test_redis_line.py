"""The leaderboard reads' pipelined Redis connection: order, lost scripts, lost connections."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from chorus_rewards import resp
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


async def test_a_batch_of_commands_waits_for_all_its_replies_and_raises_the_first_error(
    redis: Redis,
) -> None:
    key, text = f"test:line:{uuid.uuid4().hex}", f"test:line:{uuid.uuid4().hex}"
    await redis.set(text, "not a sorted set")
    line = RedisLine.for_client(redis)
    assert line is not None
    zadd = resp.zadd
    try:
        await line.execute_many([zadd(key, {"a": 1}), zadd(key, {"b": 2, "c": 3})])
        assert await redis.zrange(key, 0, -1, withscores=True) == [
            ("a", 1.0),
            ("b", 2.0),
            ("c", 3.0),
        ]
        # An error in the middle: the commands after it still ran, the error is raised once
        # every reply is in, and the connection stays in step for the next call.
        with pytest.raises(ResponseError, match="WRONGTYPE"):
            await line.execute_many(
                [zadd(key, {"d": 4}), zadd(text, {"x": 1}), zadd(key, {"e": 5})]
            )
        assert await redis.zcard(key) == 5
        ranks = await asyncio.gather(line.execute("ZRANK", key, "e"), line.execute_many([]))
        assert ranks == [4, None]
    finally:
        await line.close()
        await redis.delete(key, text)
        await redis.aclose()
