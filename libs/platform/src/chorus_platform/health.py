"""Readiness probes: each checks that a dependency really answers, with a timeout."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import asyncpg
from aiokafka.client import AIOKafkaClient
from redis.asyncio import Redis

Probe = Callable[[], Awaitable[None]]
PROBE_TIMEOUT_SECONDS = 3.0


def postgres_probe(pool: asyncpg.Pool) -> Probe:
    async def probe() -> None:
        async with pool.acquire(timeout=PROBE_TIMEOUT_SECONDS) as conn:
            await conn.fetchval("SELECT 1")

    return probe


def redis_probe(redis: Redis) -> Probe:
    async def probe() -> None:
        if not await redis.ping():
            raise ConnectionError("redis did not answer PING")

    return probe


def kafka_probe(bootstrap: str) -> Probe:
    # A fresh client per probe: a metadata round trip proves a broker answers now,
    # not that a socket opened minutes ago is still there.
    async def probe() -> None:
        client = AIOKafkaClient(bootstrap_servers=bootstrap, request_timeout_ms=3000)
        try:
            await client.bootstrap()
            if not client.cluster.brokers():
                raise ConnectionError("kafka metadata lists no brokers")
        finally:
            await client.close()

    return probe


async def run_probes(probes: dict[str, Probe]) -> dict[str, str | None]:
    """Run all probes concurrently; map name → None when healthy, else the error."""

    async def one(probe: Probe) -> str | None:
        try:
            await asyncio.wait_for(probe(), PROBE_TIMEOUT_SECONDS)
        except Exception as exc:  # a probe reports any failure, it never raises
            return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        return None

    names = list(probes)
    results = await asyncio.gather(*(one(probes[n]) for n in names))
    return dict(zip(names, results, strict=True))
