"""Tracked-link redirect: throughput, latency and click accounting, on the local stack.

One run, in a throwaway database `chorus_bench_<random>` (dropped at the end) and
a throwaway tenant:

1. start the sharing service with uvicorn (one worker, loopback, free port);
   publish one approved content item to `content.approved` and create `--links`
   shares through `POST /v1/shares` — each with its tracked link;
2. for each click durability option (`--modes`, default both: `kafka` = produce
   with acks=all before the 302, `outbox` = group-committed outbox insert with
   synchronous_commit=on before the 302, the relay publishes), restart the
   service with that option and drive `GET /l/{code}` with an asyncio load
   generator: `--connections` keep-alive HTTP/1.1 connections over raw sockets,
   each sending its next request when the previous response arrived, for at
   most `--requests` requests or `--seconds` seconds, after `--warmup` requests
   that count for the click accounting but not for the figures;
3. after each run, stop the service (SIGTERM), wait for the outbox to drain and
   count the tenant's `click.recorded` events in Kafka written since the run
   started: they must equal the 302s the load generator received.

Latency is measured by the load generator from writing the request to having
read the whole response, on the same two cores as the service, Kafka and
PostgreSQL: a conservative figure.

    .venv/bin/python bench/sharing_redirect.py [--links 100] [--connections 32]
        [--requests 40000] [--seconds 20] [--warmup 2000] [--modes kafka,outbox]

Endpoints default to $CHORUS_DATABASE_URL / $CHORUS_KAFKA_BOOTSTRAP /
$CHORUS_REDIS_URL, else the local stack (`python -m chorus_devstack up --infra-only`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import secrets
import signal
import sys
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from chorus_devstack.apps import identity_headers
from chorus_devstack.fleet import free_port
from chorus_devstack.settings import (
    DEFAULT_DATABASE_URL,
    DEFAULT_KAFKA_BOOTSTRAP,
    DEFAULT_REDIS_URL,
)
from chorus_events.bus import KafkaPublisher, ensure_topics
from chorus_events.contracts.content import ContentApproved, Targeting
from chorus_events.contracts.registry import CLICK_RECORDED, CONTENT_APPROVED
from chorus_events.envelope import decode, encode
from chorus_platform.identity import Role

HOST = "127.0.0.1"
TARGET_RATE = 2000.0
TARGET_P99_MS = 25.0


# --- the service under test -----------------------------------------------------




@dataclass
class Stack:
    dsn: str
    bootstrap: str
    redis_url: str
    secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    group: str = field(default_factory=lambda: f"sharing-bench-{uuid.uuid4().hex[:8]}")

    def env(self, durability: str) -> dict[str, str]:
        return {
            **os.environ,
            "CHORUS_DATABASE_URL": self.dsn,
            "CHORUS_KAFKA_BOOTSTRAP": self.bootstrap,
            "CHORUS_REDIS_URL": self.redis_url,
            "CHORUS_INTERNAL_TOKEN_SECRET": self.secret,
            "CHORUS_LOG_LEVEL": "WARNING",
            "CHORUS_SHARING_CLICK_SALT": "bench-salt",
            "CHORUS_SHARING_CLICK_DURABILITY": durability,
            "CHORUS_SHARING_CONSUMER_GROUP": self.group,
        }


@dataclass(frozen=True)
class Service:
    port: int
    pid: int

    def cpu_seconds(self) -> float:
        """User + system CPU time the service process has used so far (Linux /proc)."""
        with open(f"/proc/{self.pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_ticks() -> tuple[int, int]:
    """(busy, total) CPU ticks of the whole machine so far (Linux /proc/stat)."""
    with open("/proc/stat") as stat:
        values = [int(v) for v in stat.readline().split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


# uvicorn under cProfile; uvicorn re-raises SIGTERM after its graceful shutdown, which
# would kill the process before the stats are written.
_PROFILED = """
import cProfile, signal, sys, uvicorn
signal.raise_signal = lambda signum: None
profiler = cProfile.Profile()
profiler.enable()
try:
    uvicorn.main(sys.argv[2:])
except SystemExit:
    pass
finally:
    profiler.disable()
    profiler.dump_stats(sys.argv[1])
"""


@contextlib.asynccontextmanager
async def sharing_service(
    stack: Stack, durability: str, profile: str | None = None
) -> AsyncIterator[Service]:
    """Run `uvicorn chorus_sharing.app:app` (one worker); yield it; SIGTERM at exit.

    With `profile`, the service runs under cProfile and writes its stats there on exit
    (the figures are then slower: they are for finding where the time goes).
    """
    port = free_port()
    runner = ["-c", _PROFILED, profile] if profile else ["-m", "uvicorn"]
    proc = await asyncio.create_subprocess_exec(
        sys.executable, *runner, "chorus_sharing.app:app",
        "--host", HOST, "--port", str(port), "--workers", "1",
        "--log-level", "warning", "--no-access-log",
        env=stack.env(durability),
    )  # fmt: skip
    try:
        async with httpx.AsyncClient(base_url=f"http://{HOST}:{port}") as probe:
            for _ in range(300):
                if proc.returncode is not None:
                    raise RuntimeError(f"sharing exited with {proc.returncode}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await probe.get("/readyz")).status_code == 200:
                        break
                await asyncio.sleep(0.1)
            else:
                raise RuntimeError("sharing did not become ready")
        yield Service(port, proc.pid)
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.wait(), 60)


async def create_links(stack: Stack, port: int, tenant: str, count: int) -> list[str]:
    """Approve one content item and share it `count` times (one share per advocate)."""
    publisher = KafkaPublisher(stack.bootstrap, "bench")
    now = datetime.now(UTC)
    content = ContentApproved(
        tenant_id=tenant, content_id="launch", version=1, title="Chorus 2.0 is out", body="…",
        link_url="https://example.com/launch?ref=bench", category="product_announcements",
        language="en", campaign_hashtags=("#ChorusLaunch",), targeting=Targeting(audience="all"),
        publish_at=now - timedelta(minutes=1), approved_by="approver", approved_at=now,
    )  # fmt: skip
    await publisher.publish([encode(CONTENT_APPROVED, content, source="/chorus/content")])
    await publisher.stop()
    codes: list[str] = []
    async with httpx.AsyncClient(base_url=f"http://{HOST}:{port}", timeout=10) as http:
        deadline = time.monotonic() + 60
        while len(codes) < count:
            advocate = f"adv-{len(codes)}"
            headers = identity_headers(stack.secret, tenant, advocate, (Role.ADVOCATE,))
            response = await http.post(
                "/v1/shares", json={"content_id": "launch", "network": "linkedin"}, headers=headers
            )
            if response.status_code == 404 and time.monotonic() < deadline:
                await asyncio.sleep(0.1)  # the approval is still on its way to the feed
                continue
            response.raise_for_status()
            codes.append(response.json()["link"]["code"])
    return codes


# --- the load generator -----------------------------------------------------------


@dataclass
class LoadResult:
    sent: int = 0
    redirects: int = 0
    other: dict[int, int] = field(default_factory=dict)
    errors: int = 0
    latencies: list[float] = field(default_factory=list)
    measured: int = 0
    elapsed: float = 0.0

    @property
    def rate(self) -> float:
        return self.measured / self.elapsed if self.elapsed else 0.0


async def _read_response(reader: asyncio.StreamReader) -> int:
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("connection closed")
    status = int(status_line.split(b" ", 2)[1])
    length = 0
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    if length:
        await reader.readexactly(length)
    return status


async def drive(
    port: int, codes: Sequence[str], *, connections: int, requests: int, seconds: float, warmup: int
) -> LoadResult:
    """Closed-loop load: each connection sends its next request when its response arrived."""
    result = LoadResult()
    budget = warmup + requests
    measure_from: list[float] = []
    deadline = [math.inf]

    async def connection(n: int) -> None:
        reader, writer = await asyncio.open_connection(HOST, port)
        agent = f"Mozilla/5.0 (bench; conn {n})"
        forwarded = f"198.51.{n % 256}.{(n * 7) % 256}"
        try:
            while result.sent < budget and time.perf_counter() < deadline[0]:
                index = result.sent
                result.sent += 1
                if index == warmup:
                    measure_from.append(time.perf_counter())
                    deadline[0] = measure_from[0] + seconds
                code = codes[index % len(codes)]
                writer.write(
                    f"GET /l/{code} HTTP/1.1\r\nHost: go.example.com\r\nUser-Agent: {agent}\r\n"
                    f"X-Forwarded-For: {forwarded}\r\n\r\n".encode()
                )
                started = time.perf_counter()
                try:
                    status = await _read_response(reader)
                except (ConnectionError, asyncio.IncompleteReadError):
                    result.errors += 1
                    return
                took = time.perf_counter() - started
                if status == 302:
                    result.redirects += 1
                else:
                    result.other[status] = result.other.get(status, 0) + 1
                if index >= warmup:
                    result.latencies.append(took)
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    await asyncio.gather(*(connection(n) for n in range(connections)))
    ended = time.perf_counter()
    result.measured = len(result.latencies)
    result.elapsed = ended - measure_from[0] if measure_from else 0.0
    return result


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(max(math.ceil(pct / 100 * len(ordered)), 1), len(ordered)) - 1]


# --- click accounting ---------------------------------------------------------------


async def topic_ends(bootstrap: str, topic: str) -> dict[TopicPartition, int]:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        partitions = [
            TopicPartition(topic, p) for p in sorted(await producer.partitions_for(topic))
        ]
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        ends: dict[TopicPartition, int] = await consumer.end_offsets(partitions)
        return ends
    finally:
        await consumer.stop()


async def clicks_since(bootstrap: str, start: dict[TopicPartition, int], tenant: str) -> int:
    """Distinct click ids of `tenant` written after `start` (offsets per partition)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, max_partition_fetch_bytes=8 << 20
    )
    await consumer.start()
    seen: set[str] = set()
    types = {CLICK_RECORDED.ce_type: CLICK_RECORDED}
    try:
        ends = await consumer.end_offsets(list(start))
        consumer.assign(list(start))
        for tp, offset in start.items():
            consumer.seek(tp, offset)
        pending = {tp for tp in start if ends[tp] > start[tp]}
        while pending:
            for tp, records in (await consumer.getmany(timeout_ms=1000, max_records=10000)).items():
                for r in records:
                    if r.offset < ends[tp]:
                        env = decode(r.topic, r.key, r.value, r.headers, types)
                        if env.payload.tenant_id == tenant:
                            seen.add(str(env.payload.click_id))
                if await consumer.position(tp) >= ends[tp]:
                    pending.discard(tp)
    finally:
        await consumer.stop()
    return len(seen)


async def outbox_drained(dsn: str, within: float = 120.0) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        deadline = time.monotonic() + within
        while await conn.fetchval("SELECT count(*) FROM sharing.outbox WHERE sent_at IS NULL"):
            if time.monotonic() > deadline:
                raise RuntimeError("outbox did not drain")
            await asyncio.sleep(0.2)
    finally:
        await conn.close()


# --- the run --------------------------------------------------------------------------


@dataclass
class ModeReport:
    mode: str
    load: LoadResult
    clicks: int
    cpu_us: float
    """Service CPU per redirect (whole run incl. warm-up): robust to a busy machine."""
    loadgen_us: float
    """This process's (the load generator's) CPU per redirect."""
    busy: float
    """Share of the machine's CPU time in use during the run (all processes)."""
    loadavg: float


async def run_mode(
    stack: Stack, mode: str, tenant: str, codes: list[str], args: argparse.Namespace
) -> ModeReport:
    start = await topic_ends(stack.bootstrap, CLICK_RECORDED.topic)
    profile = f"{args.profile}.{mode}" if args.profile else None
    async with sharing_service(stack, mode, profile) as service:
        cpu_before = service.cpu_seconds()
        own_before = time.process_time()
        busy_before, total_before = machine_ticks()
        load = await drive(
            service.port, codes, connections=args.connections, requests=args.requests,
            seconds=args.seconds, warmup=args.warmup,
        )  # fmt: skip
        cpu = service.cpu_seconds() - cpu_before
        own = time.process_time() - own_before
        busy_after, total_after = machine_ticks()
        busy = (busy_after - busy_before) / max(total_after - total_before, 1)
        loadavg = os.getloadavg()[0]
    # The service stopped (SIGTERM) and its relay with it: clicks still in the outbox
    # (outbox mode, or Kafka mode's fallback) are published by a relay-only instance.
    async with sharing_service(stack, "kafka"):
        await outbox_drained(stack.dsn)
    clicks = await clicks_since(stack.bootstrap, start, tenant)
    per = 1e6 / max(load.redirects, 1)
    return ModeReport(mode, load, clicks, cpu * per, own * per, busy, loadavg)


COLUMNS = ["mode", "redirects/s", "p50 ms", "p95 ms", "p99 ms", "max ms", "svc cpu us/302",
           "gen cpu us/302", "busy", "load1", "302s", "clicks", "other", "verdict"]  # fmt: skip


def report(reports: list[ModeReport], args: argparse.Namespace) -> str:
    rows = [COLUMNS]
    for r in reports:
        lat = r.load.latencies
        p99 = percentile(lat, 99) * 1000
        accounted = r.clicks == r.load.redirects and not r.load.errors and not r.load.other
        meets = r.load.rate >= TARGET_RATE and p99 <= TARGET_P99_MS
        verdict = "clicks==302s" if accounted else "MISMATCH"
        rows.append([
            r.mode, f"{r.load.rate:,.0f}", f"{percentile(lat, 50) * 1000:.1f}",
            f"{percentile(lat, 95) * 1000:.1f}", f"{p99:.1f}", f"{max(lat, default=0) * 1000:.1f}",
            f"{r.cpu_us:.0f}", f"{r.loadgen_us:.0f}", f"{r.busy:.0%}", f"{r.loadavg:.1f}",
            str(r.load.redirects), str(r.clicks),
            str(sum(r.load.other.values()) + r.load.errors),
            verdict + (", target met" if meets else ", target missed"),
        ])  # fmt: skip
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    lines = [
        "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    header = (
        f"sharing redirect: {args.links} links, {args.connections} keep-alive connections, "
        f"{args.warmup} warm-up + up to {args.requests} requests or {args.seconds:.0f}s per mode, "
        f"{os.cpu_count()} CPUs; target >= {TARGET_RATE:,.0f}/s, p99 <= {TARGET_P99_MS:.0f} ms"
    )
    return "\n".join([header, *lines])


async def main(args: argparse.Namespace) -> int:
    from chorus_devstack.pg_admin import create_database, drop_database, with_database

    admin_url = os.environ.get("CHORUS_DATABASE_URL", DEFAULT_DATABASE_URL)
    name = f"chorus_bench_{secrets.token_hex(4)}"
    await create_database(admin_url, name)
    stack = Stack(
        dsn=with_database(admin_url, name),
        bootstrap=os.environ.get("CHORUS_KAFKA_BOOTSTRAP", DEFAULT_KAFKA_BOOTSTRAP),
        redis_url=os.environ.get("CHORUS_REDIS_URL", DEFAULT_REDIS_URL),
    )
    tenant = f"bench-{uuid.uuid4().hex[:8]}"
    try:
        await ensure_topics(stack.bootstrap, [CLICK_RECORDED.topic, CONTENT_APPROVED.topic], 3)
        async with sharing_service(stack, "kafka") as service:
            admin = identity_headers(stack.secret, tenant, "boss", (Role.ADMIN,))
            async with httpx.AsyncClient(base_url=f"http://{HOST}:{service.port}") as http:
                policy = {"daily_cap": 1000}
                (
                    await http.put("/v1/sharing/policy", json=policy, headers=admin)
                ).raise_for_status()
            codes = await create_links(stack, service.port, tenant, args.links)
        reports = [await run_mode(stack, mode, tenant, codes, args) for mode in args.modes]
    finally:
        await drop_database(admin_url, name)
    print(report(reports, args))
    ok = all(r.clicks == r.load.redirects for r in reports)
    return 0 if ok else 1


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--links", type=int, default=100)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--requests", type=int, default=40_000)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--warmup", type=int, default=2_000)
    parser.add_argument(
        "--modes", type=lambda s: [m.strip() for m in s.split(",") if m.strip()],
        default=["kafka", "outbox"],
    )  # fmt: skip
    parser.add_argument(
        "--profile", metavar="PATH",
        help="run the service under cProfile; stats go to PATH.<mode> (slower figures)",
    )  # fmt: skip
    return parser.parse_args(argv)


if __name__ == "__main__":
    try:
        import uvloop
    except ImportError:  # the load generator works without it, just slower
        sys.exit(asyncio.run(main(parse_args())))
    sys.exit(uvloop.run(main(parse_args())))
