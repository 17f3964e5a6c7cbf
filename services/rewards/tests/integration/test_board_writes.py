"""The hand-packed Redis pipeline of the board writer, against the real Redis."""

from __future__ import annotations

import uuid

import pytest
from chorus_rewards import resp
from redis.asyncio import Redis
from redis.exceptions import ResponseError


async def test_packed_zadd_expireat_and_publish_land_as_redis_py_would_send_them(
    redis_url: str,
) -> None:
    redis = Redis.from_url(redis_url, decode_responses=True)
    key = f"test:resp:{uuid.uuid4().hex}"
    members = {"amy": -(5 << 22) - 1, "bob": 12_345_678_901_234, "zoë": 0}
    try:
        await resp.send(
            redis,
            [
                resp.zadd(key, members),
                resp.command("EXPIREAT", key, 4_000_000_000),
                resp.command("PUBLISH", f"{key}:ch", '{"x": "é"}'),
            ],
        )
        assert await redis.zrange(key, 0, -1, withscores=True) == [
            ("amy", float(members["amy"])),
            ("zoë", 0.0),
            ("bob", float(members["bob"])),
        ]
        assert await redis.expiretime(key) == 4_000_000_000
        # An error reply raises, and the pool still works afterwards (the connection with
        # unread replies was dropped, not reused).
        with pytest.raises(ResponseError):
            await resp.send(redis, [resp.command("INCR", key), resp.command("PING")])
        assert await redis.zcard(key) == 3
    finally:
        await redis.delete(key)
        await redis.aclose()
