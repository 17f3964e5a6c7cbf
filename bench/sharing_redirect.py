"""Tracked-link redirect: throughput, latency and click accounting, on the local stack.

One run, in a throwaway database `chorus_bench_<random>` (dropped at the end) and
a throwaway tenant:

1. start the sharing service as the local launcher does (`--workers` processes,
   default `CHORUS_SHARING_WORKERS` or the launcher's default, 2; several each on its
   own SO_REUSEPORT socket; loopback, free port) and wait until every worker accepts
   connections;
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
   then, on the same service, an open loop at each `--rates` rate (default 2,000/s,
   the issue's target) for `--seconds`: requests sent at their due times whatever
   the responses do, latency counted from the due time (as wrk2 does; see
   `drive_steady` for why a closed loop cannot answer "p99 at 2,000/s");
3. after each run, stop the service (SIGTERM), wait for the outbox to drain and
   count the tenant's `click.recorded` events in Kafka written since the run
   started: they must equal the 302s the load generator received.

Latency is measured by the load generator from writing the request to having
read the whole response, on the same two cores as the service, Kafka and
PostgreSQL: a conservative figure.

    .venv/bin/python bench/sharing_redirect.py [--workers 2] [--links 100] [--connections 32]
        [--requests 40000] [--seconds 20] [--warmup 2000] [--modes kafka,outbox]

Endpoints default to $CHORUS_DATABASE_URL / $CHORUS_KAFKA_BOOTSTRAP /
$CHORUS_REDIS_URL, else the local stack (`python -m chorus_devstack up --infra-only`).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import math
import os
import secrets
import shutil
import signal
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from chorus_devstack.apps import identity_headers
from chorus_devstack.fleet import free_port
from chorus_devstack.serving import service_workers, uvicorn_command, workers_env
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

try:
    from bench._common import collector_paused
except ModuleNotFoundError:  # run as a script: bench/ itself is sys.path[0]
    from _common import collector_paused  # type: ignore[no-redef,import-not-found]

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


def _stat(pid: int) -> list[str]:
    """Fields of /proc/PID/stat after the command name (state is [0], ppid [1])."""
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rsplit(")", 1)[1].split()


def descendants(pid: int) -> list[int]:
    """Live processes below `pid` (a uvicorn supervisor's workers), from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError):
                children.setdefault(int(_stat(int(entry))[1]), []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        below = children.get(todo.pop(), [])
        found += below
        todo += below
    return found


def established_by_process(port: int, pids: Sequence[int]) -> dict[int, int]:
    """Established connections to `port` each of `pids` holds (/proc/net/tcp + fds)."""
    inodes: set[str] = set()
    with open("/proc/net/tcp") as table:
        for line in table.readlines()[1:]:
            cols = line.split()
            if int(cols[1].split(":")[1], 16) == port and cols[3] == "01":  # ESTABLISHED
                inodes.add(cols[9])
    counts = dict.fromkeys(pids, 0)
    for pid in pids:
        with contextlib.suppress(OSError):
            for fd in os.listdir(f"/proc/{pid}/fd"):
                with contextlib.suppress(OSError):
                    link = os.readlink(f"/proc/{pid}/fd/{fd}")
                    if link.startswith("socket:[") and link[8:-1] in inodes:
                        counts[pid] += 1
    return counts


@dataclass(frozen=True)
class Service:
    port: int
    pid: int
    workers: list[int]
    """The worker processes serving the port (the supervisor's children), or [pid]."""

    def cpu_seconds(self) -> float:
        """User + system CPU time the service's processes have used so far (Linux /proc)."""
        ticks = 0
        for pid in {self.pid, *self.workers}:
            with contextlib.suppress(OSError):  # a worker that exited no longer counts
                fields = _stat(pid)
                ticks += int(fields[11]) + int(fields[12])
        return ticks / os.sysconf("SC_CLK_TCK")


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
    stack: Stack, durability: str, workers: int, profile: str | None = None
) -> AsyncIterator[Service]:
    """Run sharing as the launcher does (`serving.uvicorn_command`, `workers` processes);
    yield it once every worker serves; SIGTERM at exit.

    With `profile`, one process runs under cProfile and writes its stats there on exit
    (the figures are then slower: they are for finding where the time goes).
    """
    port = free_port()
    workers = 1 if profile else workers
    cmd = uvicorn_command(sys.executable, "sharing", HOST, port, workers=workers,
                          extra=("--log-level", "warning", "--no-access-log"))  # fmt: skip
    if profile:
        cmd[1:3] = ["-c", _PROFILED, profile]
    metrics_dir = Path(tempfile.gettempdir()) / f"chorus-bench-sharing-{port}.metrics"
    env = {**stack.env(durability), **workers_env(workers, metrics_dir)}
    proc = await asyncio.create_subprocess_exec(*cmd, env=env)
    try:
        served = await _wait_serving(proc, port, workers)
        yield Service(port, proc.pid, served)
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.wait(), 60)
        shutil.rmtree(metrics_dir, ignore_errors=True)


async def _wait_serving(proc: asyncio.subprocess.Process, port: int, workers: int) -> list[int]:
    """Until `/readyz` answers 200 and, with several workers, each of them accepts
    connections (the load's keep-alive connections are opened once: a worker still
    starting when they are would get none). Returns the serving processes' pids."""
    deadline = time.monotonic() + 60
    async with httpx.AsyncClient(base_url=f"http://{HOST}:{port}") as probe:
        while True:
            if proc.returncode is not None:
                raise RuntimeError(f"sharing exited with {proc.returncode}")
            if time.monotonic() > deadline:
                raise RuntimeError("sharing did not become ready")
            with contextlib.suppress(httpx.HTTPError):
                if (await probe.get("/readyz")).status_code == 200:
                    break
            await asyncio.sleep(0.1)
    if workers == 1:
        return [proc.pid]
    while True:
        pids = descendants(proc.pid)
        conns = [await asyncio.open_connection(HOST, port) for _ in range(4 * workers)]
        await asyncio.sleep(0.2)  # let the workers accept them
        spread = established_by_process(port, pids)
        for _, writer in conns:
            writer.close()
        if len(pids) >= workers and all(spread.values()):
            return pids
        if proc.returncode is not None or time.monotonic() > deadline:
            raise RuntimeError(f"not every sharing worker accepts connections: {spread}")
        await asyncio.sleep(0.5)


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
    """Read one HTTP/1.1 response from `reader`; its status (platform_bench's visitors)."""
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


class _KeepAlive(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection of the load generator, on a bare protocol.

    `roundtrip` writes a request and resolves with the response's status once the
    whole response (headers and `content-length` body) has arrived. A protocol
    instead of a StreamReader: reading a response line by line (an await per
    header) cost the generator 57-97 µs of CPU per redirect in the runs of
    27 Nov 2026, CPU the service on the same two cores then lacked; this, 44 µs.
    """

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = b""
        self.waiter: asyncio.Future[int] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def usable(self, idle_since: float) -> bool:
        """Open, and idle for less than the server's keep-alive timeout (uvicorn: 5 s)
        by a margin: a request sent as the server closes an idle connection is lost
        after the service recorded its click (the open loop's spare connections idle)."""
        if self.transport is None or self.transport.is_closing():
            return False
        if time.monotonic() - idle_since < 3.0:
            return True
        self.transport.close()
        return False

    def roundtrip(self, request: bytes) -> asyncio.Future[int]:
        assert self.transport is not None
        self.waiter = asyncio.get_running_loop().create_future()
        if self.transport.is_closing():
            self.waiter.set_exception(ConnectionError("connection closed"))
        else:
            self.transport.write(request)
        return self.waiter

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        head_end = self.buffer.find(b"\r\n\r\n")
        if head_end < 0 or self.waiter is None:
            return
        head = self.buffer[:head_end]
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        total = head_end + 4 + length
        if len(self.buffer) < total:
            return
        self.buffer = self.buffer[total:]
        waiter, self.waiter = self.waiter, None
        if not waiter.done():
            waiter.set_result(int(head.split(b" ", 2)[1]))

    def connection_lost(self, exc: Exception | None) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError("connection closed"))


async def drive(
    port: int, codes: Sequence[str], *, connections: int, requests: int, seconds: float, warmup: int
) -> LoadResult:
    """Closed-loop load: each connection sends its next request when its response arrived."""
    result = LoadResult()
    budget = warmup + requests
    measure_from: list[float] = []
    deadline = [math.inf]
    loop = asyncio.get_running_loop()

    async def connection(n: int) -> None:
        transport, visitor = await loop.create_connection(_KeepAlive, HOST, port)
        agent = f"Mozilla/5.0 (bench; conn {n})"
        forwarded = f"198.51.{n % 256}.{(n * 7) % 256}"
        requests = [
            f"GET /l/{code} HTTP/1.1\r\nHost: go.example.com\r\nUser-Agent: {agent}\r\n"
            f"X-Forwarded-For: {forwarded}\r\n\r\n".encode()
            for code in codes
        ]
        try:
            while result.sent < budget and time.perf_counter() < deadline[0]:
                index = result.sent
                result.sent += 1
                if index == warmup:
                    measure_from.append(time.perf_counter())
                    deadline[0] = measure_from[0] + seconds
                response = visitor.roundtrip(requests[index % len(requests)])
                started = time.perf_counter()
                try:
                    status = await response
                except ConnectionError:
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
            transport.close()

    await asyncio.gather(*(connection(n) for n in range(connections)))
    ended = time.perf_counter()
    result.measured = len(result.latencies)
    result.elapsed = ended - measure_from[0] if measure_from else 0.0
    return result


class _SteadyLoad:
    """The open loop's bookkeeping, on callbacks: a task per request would cost the
    generator more CPU than the redirect costs the service (measured: ~275 µs)."""

    def __init__(
        self, requests: Sequence[bytes], opened: int, most: int, connect: Callable[[], None]
    ) -> None:
        self.requests = requests
        self.most = most
        self.connect = connect
        self.result = LoadResult()
        self.idle: list[tuple[_KeepAlive, float]] = []
        self.waiting: collections.deque[tuple[int, float, bool]] = collections.deque()
        self.connections = opened  # open or being opened
        self.outstanding = 0
        self.drained = asyncio.Event()

    def submit(self, index: int, due: float, measured: bool) -> None:
        self.outstanding += 1
        self.drained.clear()
        while self.idle:
            visitor, since = self.idle.pop()  # the most recently used first
            if visitor.usable(since):
                self._fire(visitor, (index, due, measured))
                return
            self.connections -= 1
        self.waiting.append((index, due, measured))
        if self.connections < self.most:
            self.connections += 1
            self.connect()

    def ready(self, visitor: _KeepAlive) -> None:
        """A connection is free (new, or its response arrived)."""
        if self.waiting:
            self._fire(visitor, self.waiting.popleft())
        else:
            self.idle.append((visitor, time.monotonic()))

    def _fire(self, visitor: _KeepAlive, job: tuple[int, float, bool]) -> None:
        response = visitor.roundtrip(self.requests[job[0] % len(self.requests)])
        response.add_done_callback(lambda done: self._answered(visitor, job, done))

    def _answered(
        self, visitor: _KeepAlive, job: tuple[int, float, bool], response: asyncio.Future[int]
    ) -> None:
        took = time.perf_counter() - job[1]
        result = self.result
        if response.exception() is not None:
            result.errors += 1  # that connection is gone; the others go on
            self.connections -= 1
        else:
            status = response.result()
            if status == 302:
                result.redirects += 1
            else:
                result.other[status] = result.other.get(status, 0) + 1
            if job[2]:
                result.latencies.append(took)
            self.ready(visitor)
        self.outstanding -= 1
        if self.outstanding == 0:
            self.drained.set()


async def drive_steady(
    port: int,
    codes: Sequence[str],
    *,
    rate: float,
    connections: int,
    seconds: float,
    warmup_seconds: float,
) -> LoadResult:
    """Open-loop load at a fixed `rate`: request i is due at start + i / rate.

    What "2,000 redirects/s with p99 <= 25 ms" asks: the latency of a redirect while
    the service carries that rate, as wrk2 measures it. A closed loop measures
    something else: its latency is its concurrency divided by its throughput (Little's
    law), so it rises with the number of connections whatever the service does.
    Latency here runs from a request's due time (not from when a connection was free
    to send it), so a stalled service is not hidden by the generator slowing down
    (coordinated omission). A request takes an idle connection of the pool
    (`connections` opened first), opening another only when all are busy, up to 8x;
    the first `warmup_seconds` count for the click accounting, not for the figures.
    """
    loop = asyncio.get_running_loop()
    opened: list[asyncio.BaseTransport] = []
    agent = "Mozilla/5.0 (bench; steady)"
    requests = [
        f"GET /l/{code} HTTP/1.1\r\nHost: go.example.com\r\nUser-Agent: {agent}\r\n"
        f"X-Forwarded-For: 198.51.100.{n % 250}\r\n\r\n".encode()
        for n, code in enumerate(codes)
    ]
    connecting: set[asyncio.Task[None]] = set()

    async def open_one() -> None:
        transport, visitor = await loop.create_connection(_KeepAlive, HOST, port)
        opened.append(transport)
        load.ready(visitor)

    def connect() -> None:
        task = asyncio.ensure_future(open_one())
        connecting.add(task)
        task.add_done_callback(connecting.discard)

    load = _SteadyLoad(requests, connections, connections * 8, connect)
    await asyncio.gather(*(open_one() for _ in range(connections)))
    start = time.perf_counter()
    measure_from = start + warmup_seconds
    end = measure_from + seconds
    index = 0
    try:
        while True:
            now = time.perf_counter()
            if now >= end:
                break
            # Send everything due by now, then sleep until the next is due: one timer
            # per wake-up, not one per request.
            while start + index / rate <= now:
                due = start + index / rate
                load.submit(index, due, due >= measure_from)
                index += 1
            # At least 1 ms: the event loop's timers have millisecond resolution, and a
            # shorter sleep returns at once (the generator then spins, eating a core).
            await asyncio.sleep(max(start + index / rate - time.perf_counter(), 0.001))
        if load.outstanding:
            await load.drained.wait()
    finally:
        for transport in opened:
            transport.close()
    result = load.result
    result.sent = index
    result.measured = len(result.latencies)
    result.elapsed = seconds
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
class PhaseReport:
    load: LoadResult
    cpu_us: float
    """Service CPU per redirect (incl. the phase's warm-up): robust to a busy machine."""
    loadgen_us: float
    """This process's (the load generator's) CPU per redirect."""
    busy: float
    """Share of the machine's CPU time in use during the phase (all processes)."""
    loadavg: float
    connections: str
    """The load's connections per worker process, e.g. "16/16"."""
    offered: float | None = None
    """The open-loop phase's fixed rate; None for the closed loop."""


@dataclass
class ModeReport:
    mode: str
    phases: list[PhaseReport]
    clicks: int
    """click.recorded events in Kafka for the tenant, written during the mode's phases."""

    @property
    def redirects(self) -> int:
        return sum(p.load.redirects for p in self.phases)

    @property
    def accounted(self) -> bool:
        failed = any(p.load.errors or p.load.other for p in self.phases)
        return self.clicks == self.redirects and not failed


async def _phase(
    service: Service, load: Awaitable[LoadResult], offered: float | None
) -> PhaseReport:
    cpu_before = service.cpu_seconds()
    own_before = time.process_time()
    busy_before, total_before = machine_ticks()
    with collector_paused():
        driving = asyncio.ensure_future(load)
        await asyncio.sleep(1.0)  # the connections are open (and kept) by now
        spread = established_by_process(service.port, service.workers)
        result = await driving
    cpu = service.cpu_seconds() - cpu_before
    own = time.process_time() - own_before
    busy_after, total_after = machine_ticks()
    busy = (busy_after - busy_before) / max(total_after - total_before, 1)
    per = 1e6 / max(result.redirects, 1)
    split = "/".join(str(n) for n in spread.values())
    return PhaseReport(result, cpu * per, own * per, busy, os.getloadavg()[0], split, offered)


async def run_mode(
    stack: Stack, mode: str, tenant: str, codes: list[str], args: argparse.Namespace
) -> ModeReport:
    start = await topic_ends(stack.bootstrap, CLICK_RECORDED.topic)
    profile = f"{args.profile}.{mode}" if args.profile else None
    phases = []
    async with sharing_service(stack, mode, args.workers, profile) as service:
        closed = drive(
            service.port, codes, connections=args.connections, requests=args.requests,
            seconds=args.seconds, warmup=args.warmup,
        )  # fmt: skip
        phases.append(await _phase(service, closed, None))
        for rate in args.rates:
            steady = drive_steady(
                service.port, codes, rate=rate, connections=args.connections,
                seconds=args.seconds, warmup_seconds=args.warmup / rate,
            )  # fmt: skip
            phases.append(await _phase(service, steady, rate))
    # The service stopped (SIGTERM) and its relay with it: clicks still in the outbox
    # (outbox mode, or Kafka mode's fallback) are published by a relay-only instance.
    async with sharing_service(stack, "kafka", 1):
        await outbox_drained(stack.dsn)
    clicks = await clicks_since(stack.bootstrap, start, tenant)
    return ModeReport(mode, phases, clicks)


COLUMNS = ["mode", "load", "conns/worker", "redirects/s", "p50 ms", "p95 ms", "p99 ms",
           "max ms", "svc cpu us/302", "gen cpu us/302", "busy", "load1", "302s", "other",
           "target"]  # fmt: skip


def _meets(phase: PhaseReport) -> bool:
    """Open loop at >= the target rate, every request answered 302, p99 within target."""
    if phase.offered is None or phase.offered < TARGET_RATE:
        return False
    clean = not phase.load.errors and not phase.load.other
    return clean and percentile(phase.load.latencies, 99) * 1000 <= TARGET_P99_MS


def report(reports: list[ModeReport], args: argparse.Namespace) -> str:
    rows = [COLUMNS]
    for r in reports:
        for phase in r.phases:
            lat = phase.load.latencies
            kind = "closed" if phase.offered is None else f"{phase.offered:,.0f}/s"
            verdict = "-" if phase.offered is None else ("met" if _meets(phase) else "missed")
            rows.append([
                r.mode, kind, phase.connections, f"{phase.load.rate:,.0f}",
                f"{percentile(lat, 50) * 1000:.1f}", f"{percentile(lat, 95) * 1000:.1f}",
                f"{percentile(lat, 99) * 1000:.1f}", f"{max(lat, default=0) * 1000:.1f}",
                f"{phase.cpu_us:.0f}", f"{phase.loadgen_us:.0f}", f"{phase.busy:.0%}",
                f"{phase.loadavg:.1f}", str(phase.load.redirects),
                str(sum(phase.load.other.values()) + phase.load.errors), verdict,
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
        f"sharing redirect: {args.workers} worker(s), {args.links} links, "
        f"{args.connections} keep-alive connections; per mode a closed loop ("
        f"{args.warmup} warm-up + up to {args.requests} requests or {args.seconds:.0f}s), then "
        f"open loop at {', '.join(f'{r:,.0f}' for r in args.rates)}/s for {args.seconds:.0f}s "
        f"each (latency from each request's due time); {os.cpu_count()} CPUs; "
        f"target >= {TARGET_RATE:,.0f}/s with p99 <= {TARGET_P99_MS:.0f} ms"
    )
    accounting = [
        f"{r.mode}: {r.redirects} redirects (302) sent, {r.clicks} clicks in Kafka: "
        + ("every click accounted for" if r.accounted else "MISMATCH")
        for r in reports
    ]
    return "\n".join([header, *lines, *accounting])


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
        async with sharing_service(stack, "kafka", args.workers) as service:
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
    ok = all(r.accounted for r in reports)
    return 0 if ok else 1


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--workers", type=int, default=service_workers("sharing", os.environ),
        help="sharing's uvicorn worker processes (default: the launcher's, CHORUS_SHARING_WORKERS)",
    )  # fmt: skip
    parser.add_argument("--links", type=int, default=100)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--requests", type=int, default=40_000)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--warmup", type=int, default=2_000)
    parser.add_argument(
        "--rates", type=lambda s: [float(r) for r in s.split(",") if r.strip()],
        default=[TARGET_RATE],
        help="open-loop rates (redirects/s) run after each closed loop; '' for none",
    )  # fmt: skip
    parser.add_argument(
        "--modes", type=lambda s: [m.strip() for m in s.split(",") if m.strip()],
        default=["kafka", "outbox"],
    )  # fmt: skip
    parser.add_argument(
        "--profile", metavar="PATH",
        help="run the service under cProfile; stats go to PATH.<mode> (slower figures)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if args.profile:
        args.workers = 1  # cProfile follows one process
    return args


if __name__ == "__main__":
    try:
        import uvloop
    except ImportError:  # the load generator works without it, just slower
        sys.exit(asyncio.run(main(parse_args())))
    sys.exit(uvloop.run(main(parse_args())))
