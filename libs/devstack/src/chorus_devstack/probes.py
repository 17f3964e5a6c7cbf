"""Readiness probes that speak each engine's own protocol.

An open port proves little (a half-started JVM accepts connections), so Kafka must
answer a metadata request naming its cluster, Postgres must run a query and Redis must
answer PING. Probes are async; `run_sync` runs one from synchronous code even when the
caller's thread already has an event loop running (pytest-asyncio fixtures).
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")


def run_sync(factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run the coroutine made by `factory` on a fresh loop in a worker thread."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="devstack-probe") as pool:
        return pool.submit(lambda: asyncio.run(factory())).result()


def port_open(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def split_bootstrap(bootstrap: str) -> tuple[str, int]:
    """`host:port` of the first bootstrap server."""
    first = bootstrap.split(",")[0].strip()
    host, _, port = first.rpartition(":")
    return host or "127.0.0.1", int(port)


@dataclass(frozen=True)
class KafkaClusterInfo:
    cluster_id: str
    controller_id: int
    broker_count: int


async def kafka_cluster(bootstrap: str, within: float = 5.0) -> KafkaClusterInfo:
    """Ask the brokers for cluster metadata; raises if Kafka cannot answer."""
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap,
        request_timeout_ms=int(within * 1000),
        client_id="chorus-devstack-probe",
    )
    try:
        await asyncio.wait_for(admin.start(), within)
        info = await asyncio.wait_for(admin.describe_cluster(), within)
    finally:
        await admin.close()
    cluster_id = str(info.get("cluster_id") or "")
    brokers = info.get("brokers") or []
    if not cluster_id or not brokers:
        raise RuntimeError(f"Kafka at {bootstrap} answered without a cluster id or brokers")
    return KafkaClusterInfo(cluster_id, int(info.get("controller_id", -1)), len(brokers))


async def postgres_version(url: str, within: float = 5.0) -> str:
    """`SELECT version()` over a real connection; raises if Postgres cannot answer."""
    import asyncpg

    conn = await asyncpg.connect(url, timeout=within)
    try:
        return str(await conn.fetchval("SELECT version()", timeout=within))
    finally:
        await conn.close(timeout=within)


async def redis_ping(url: str, within: float = 5.0) -> bool:
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(url, socket_timeout=within, socket_connect_timeout=within)
    try:
        return bool(await client.ping())
    finally:
        await client.aclose()


def answers(factory: Callable[[], Coroutine[Any, Any, object]]) -> bool:
    """True if the probe succeeds; any failure (refused, timeout, auth) means no."""
    try:
        run_sync(factory)
    except Exception:
        return False
    return True
