"""Rewards benchmark: ledger consumer throughput, leaderboard freshness, leaderboard reads.

One run, against the local stack (or $CHORUS_* endpoints), in a throwaway
database `bench_rewards_<random>`, topics `bench<random>.share.posted` /
`.engagement.updated` and Redis tenants `bench-*` (all removed at the end):

1. throughput: produce N share.posted / engagement.updated events (a plain
   AIOKafkaProducer, `chorus_events.envelope.encode`); consume them once with a
   plain AIOKafkaConsumer that only counts (raw rate), then with the rewards
   `ConsumerRunner` + `LedgerConsumer` (ledger, standings, caps, badges in
   Postgres, then the absolute ZADDs and change notices in Redis). The runner's
   rate runs from its first handler call to the after-commit Redis write of the
   batch that completes N; the ratio to the raw rate is reported.
2. freshness: the service runs as its own process (`uvicorn chorus_rewards.app:app`);
   for each rate R (default 500 then 2,000 events/s) a steady stream of R events/s
   is produced, and every 100 ms a probe event
   for a fresh advocate; a subscriber to the tenant's change channel sees the
   probe named in a notice and then reads the advocate's rank through the HTTP
   API; freshness = API shows it - just before the probe was sent. The service
   process's own CPU per event it applied meanwhile is reported too (/proc, tracking
   rows; --workers 1).
3. reads: a 1,000,000-advocate all-time board is loaded into Redis; top-10 and
   rank reads (half each) are timed (a) through the service layer in this
   process (`Leaderboards.top/standing` on the pipelined read connection, built by
   `open_leaderboards` as the service builds it) and (b) over
   HTTP against the service process of phase 2, with C concurrent keep-alive
   connections and no gateway.

    .venv/bin/python bench/rewards_bench.py [--events 50000] [--advocates 20000]
        [--tenants 10] [--batch-size 1000] [--trace-messages] [--rates 500,2000]
        [--freshness-seconds 20] [--board 1000000] [--read-seconds 10]
        [--concurrency 16] [--workers 1] [--consumers 1]
        [--phases throughput,freshness,reads] [--ledger-only]

1b (`--phases service`, not in the default run): the same backlog consumed by the
service as deployed (`uvicorn --workers W`, each worker running its ledger consumers,
one group), for each W of `--service-workers` (default 1,2), on topics with
`--partitions` partitions; rate from the first tracked event to the last (polled), and
the CPU of every service process per event.

--ledger-only (throughput phase): the handler writes only the ledger effects (tracking,
ledger rows, accounts, shares, share progress, cap days, badges): no standings, board
cells or Redis. Not a mode of the service: what the ledger path costs by itself.

--consumers N runs N ledger consumers of one group in the consuming process (the
throughput phase's and the freshness service's, CHORUS_REWARDS_CONSUMER_INSTANCES=N):
the topics have 3 partitions each, co-partitioned, so up to 3 share the work.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import signal
import sys
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from chorus_devstack.fleet import free_port
from chorus_devstack.pg_admin import create_database, drop_database, with_database
from chorus_devstack.settings import (  # the stack's ports, offset included
    DEFAULT_DATABASE_URL,
    DEFAULT_KAFKA_BOOTSTRAP,
    DEFAULT_REDIS_URL,
)
from chorus_events.bus import ensure_topics
from chorus_events.consumer import AfterCommit, ConsumerConfig, ConsumerRunner
from chorus_events.contracts.base import Measurement, Network
from chorus_events.contracts.engagement import (
    EngagementDeltas,
    EngagementTotals,
    EngagementUpdated,
    MeasurementLabels,
)
from chorus_events.contracts.sharing import SharePosted
from chorus_events.envelope import Envelope, KafkaRecord, encode
from chorus_platform.db import create_pool
from chorus_platform.gc_tuning import freeze_startup_objects, tune_gc
from chorus_platform.identity import IDENTITY_HEADER, Identity, Role, mint_internal_token
from chorus_platform.migrate import apply_migrations
from chorus_rewards.app import build_spec
from chorus_rewards.board_sync import BoardWriter
from chorus_rewards.boards import Metric, board_key, changes_channel
from chorus_rewards.consumers import LedgerConsumer, accrue_events, write_effects
from chorus_rewards.leaderboards import BoardQuery, close_leaderboards, open_leaderboards
from chorus_rewards.ledger_worker import consumed_specs
from chorus_rewards.periods import Period
from chorus_rewards.scoring import encode_score
from chorus_rewards.settings import RewardsSettings
from chorus_rewards.tenants import SettingsCache
from redis.asyncio import Redis

try:
    from bench._common import (
        collector_paused,
        format_table,
        percentile,
        process_cpu_seconds,
        process_group_cpu_seconds,
    )
except ModuleNotFoundError:  # run as a script: bench/ itself is sys.path[0]
    from _common import (  # type: ignore[no-redef,import-not-found]
        collector_paused,
        format_table,
        percentile,
        process_cpu_seconds,
        process_group_cpu_seconds,
    )

TARGET_THROUGHPUT = 10_000
TARGET_FRESHNESS_P99 = 1.0
TARGET_READS = 3_000
TARGET_READ_P99_MS = 10.0
STALL_SECONDS = 60.0
SECRET = "bench-secret-" + uuid.uuid4().hex
LABELS = MeasurementLabels(
    clicks=Measurement.MEASURED,
    reactions=Measurement.REPORTED,
    comments=Measurement.REPORTED,
    reshares=Measurement.REPORTED,
    impressions=Measurement.REPORTED,
)
NETWORKS = [Network.LINKEDIN] * 5 + [Network.X] * 2 + [Network.FACEBOOK, Network.EMAIL]


# --- the workload ---------------------------------------------------------------


@dataclass
class Workload:
    """Shares and their engagement windows over many advocates and tenants."""

    prefix: str
    tenants: list[str]
    advocates: int
    rng: random.Random = field(default_factory=lambda: random.Random(42))
    shares: list[tuple[SharePosted, int, dict[str, int]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.share_spec, self.engagement_spec = consumed_specs(self.prefix)

    def _advocate(self) -> tuple[str, str]:
        n = self.rng.randrange(self.advocates)
        return self.tenants[n % len(self.tenants)], f"adv-{n:07d}"

    def share(self, at: datetime, advocate: tuple[str, str] | None = None) -> SharePosted:
        tenant, adv = advocate or self._advocate()
        n = int(adv.rsplit("-", 1)[1])
        share = SharePosted(
            tenant_id=tenant,
            share_id=f"s-{uuid.uuid4().hex[:16]}",
            content_id=f"c-{self.rng.randrange(50)}",
            advocate_id=adv,
            team_ids=(f"team-{n % 10}",),
            network=self.rng.choice(NETWORKS),
            link_code=uuid.uuid4().hex[:10],
            tracked_url="https://go.example/x",
            destination_url="https://example.com/?utm_source=chorus",
            campaign_hashtags=tuple(f"#campaign{c}" for c in range(n % 3)),
            posted_at=at,
        )
        self.shares.append((share, 0, dict.fromkeys(("c", "r", "m", "s", "i"), 0)))
        return share

    def engagement(self, at: datetime) -> EngagementUpdated:
        i = self.rng.randrange(len(self.shares))
        share, seq, totals = self.shares[i]
        seq += 1
        deltas = {
            "c": self.rng.randint(0, 5),
            "r": self.rng.randint(0, 3),
            "m": self.rng.randint(0, 1),
            "s": self.rng.randint(0, 1),
            "i": self.rng.randint(0, 400),
        }
        if self.rng.random() < 0.03:  # a fraud verdict takes clicks back
            deltas = dict.fromkeys(deltas, 0) | {"c": -min(totals["c"], 3)}
        totals = {k: totals[k] + deltas[k] for k in totals}
        self.shares[i] = (share, seq, totals)

        def counts(d: dict[str, int]) -> dict[str, int]:
            return {
                "clicks": d["c"],
                "reactions": d["r"],
                "comments": d["m"],
                "reshares": d["s"],
                "impressions": d["i"],
            }

        return EngagementUpdated(
            tenant_id=share.tenant_id,
            share_id=share.share_id,
            content_id=share.content_id,
            advocate_id=share.advocate_id,
            team_ids=share.team_ids,
            network=share.network,
            campaign_hashtags=share.campaign_hashtags,
            window_start=at - timedelta(minutes=5),
            window_end=at,
            deltas=EngagementDeltas(**counts(deltas)),
            totals=EngagementTotals(**counts(totals)),
            measurement=LABELS,
            sequence=seq,
        )

    def next_event(self, at: datetime) -> SharePosted | EngagementUpdated:
        """30% shares, 70% engagement updates on earlier shares."""
        if not self.shares or self.rng.random() < 0.3:
            return self.share(at)
        return self.engagement(at)

    def record(self, event: SharePosted | EngagementUpdated) -> KafkaRecord:
        spec: Any = self.share_spec if isinstance(event, SharePosted) else self.engagement_spec
        return encode(spec, event, source="/chorus/bench")


async def send_all(bootstrap: str, records: Sequence[KafkaRecord]) -> float:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks=1, linger_ms=20)
    await producer.start()
    try:
        started = time.perf_counter()
        pending = []
        for r in records:
            pending.append(await producer.send(r.topic, r.value, key=r.key, headers=r.headers))
            if len(pending) >= 10_000:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
        return time.perf_counter() - started
    finally:
        await producer.stop()


# --- phase 1: throughput ----------------------------------------------------------


async def consume_raw(bootstrap: str, topics: list[str], n: int) -> float:
    consumer = AIOKafkaConsumer(
        *topics,
        bootstrap_servers=bootstrap,
        group_id=f"bench-raw-{uuid.uuid4().hex[:8]}",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        count, first, progress = 0, None, time.monotonic()
        while count < n:
            fetched = await consumer.getmany(timeout_ms=1000)
            if not fetched:
                if time.monotonic() - progress > STALL_SECONDS:
                    raise RuntimeError(f"raw consumer stalled at {count}/{n}")
                continue
            first = first or time.perf_counter()
            count += sum(len(v) for v in fetched.values())
            progress = time.monotonic()
        assert first is not None
        return time.perf_counter() - first
    finally:
        await consumer.stop()


class LedgerOnly:
    """`--ledger-only`: the consumer's ledger effects alone (tracking, ledger rows,
    accounts, shares, share progress, cap days, badges), with no standings, board cells
    or Redis. Not a product mode: it measures what the ledger path costs by itself."""

    async def __call__(
        self, batch: Sequence[Envelope[Any]], conn: asyncpg.Connection
    ) -> AfterCommit | None:
        await write_effects(conn, await accrue_events(conn, batch))
        return None


class Meter:
    """Wraps the handler: first call, and applied counts once each batch's Redis write ran."""

    def __init__(self, inner: LedgerConsumer | LedgerOnly, target: int) -> None:
        self.inner = inner
        self.target = target
        self.applied = 0
        self.first: float | None = None
        self.last = 0.0
        self.batch_ms: list[float] = []
        self.done = asyncio.Event()

    async def __call__(
        self, batch: Sequence[Envelope[Any]], conn: asyncpg.Connection
    ) -> AfterCommit | None:
        started = time.perf_counter()
        self.first = self.first or started
        after = await self.inner(batch, conn)
        size = len(batch)

        async def finished() -> None:
            if after is not None:
                await after()
            self.last = time.perf_counter()
            self.batch_ms.append((self.last - started) * 1000)
            self.applied += size
            if self.applied >= self.target:
                self.done.set()

        return finished


async def throughput(args: argparse.Namespace, env: Env) -> dict[str, Any]:
    workload = Workload(env.prefix, env.tenants, args.advocates)
    now = datetime.now(UTC)
    print(f"building {args.events:,} events ...", flush=True)
    events = [
        workload.next_event(now - timedelta(seconds=args.events - i)) for i in range(args.events)
    ]
    records = [workload.record(e) for e in events]
    produce_s = await send_all(args.bootstrap, records)
    print(f"produced in {produce_s:.1f}s; raw consume ...", flush=True)
    raw_s = await consume_raw(args.bootstrap, env.topics, args.events)
    print("rewards consumer ...", flush=True)
    writer = BoardWriter(env.redis)
    meter = Meter(LedgerOnly() if args.ledger_only else LedgerConsumer(writer), args.events)
    # --consumers N: N runners of one group in this process, as the service runs them with
    # CHORUS_REWARDS_CONSUMER_INSTANCES=N (co-partitioned, one shared board writer). They
    # join one after another, so the first batches pay a rebalance: counted, not hidden.
    group = f"bench-rewards-{uuid.uuid4().hex[:8]}"
    runners = [
        ConsumerRunner(
            bootstrap=args.bootstrap,
            pool=env.pool,
            handler=meter,
            service="rewards",
            config=ConsumerConfig(
                group=group,
                specs=consumed_specs(env.prefix),
                batch_size=args.batch_size,
                batch_timeout_ms=50,
                trace_messages=args.trace_messages,
                co_partitioned=True,
            ),
        )
        for _ in range(args.consumers)
    ]
    # As the service does after start-up: what exists now (here also the produced events,
    # which a service would not hold) is left out of the collector's later passes.
    freeze_startup_objects()
    cpu0 = time.process_time()
    for runner in runners:
        await runner.start()
    try:
        while not meter.done.is_set():
            seen = meter.applied
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(meter.done.wait(), STALL_SECONDS)
            for runner in runners:
                if runner.failure is not None:
                    raise RuntimeError(f"runner failed: {runner.failure!r}")
            if not meter.done.is_set() and meter.applied == seen:
                raise RuntimeError(f"rewards consumer stalled at {meter.applied}/{args.events}")
    finally:
        await asyncio.gather(*(runner.stop() for runner in runners))
        # An older `chorus_rewards` on PYTHONPATH (A/B runs) has no connection to close.
        close = getattr(writer, "close", None)
        if close is not None:
            await close()
    cpu = time.process_time() - cpu0
    assert meter.first is not None
    seconds = meter.last - meter.first
    tracked = await env.pool.fetchval("SELECT count(*) FROM processed_events")
    entries = await env.pool.fetchval("SELECT count(*) FROM ledger")
    members = 0
    for tenant in env.tenants:
        async for key in env.redis.scan_iter(match=f"chorus:rewards:{{{tenant}}}:lb:*"):
            members += await env.redis.zcard(key)
    return {
        "events": args.events,
        "produce_s": produce_s,
        "raw_rate": args.events / raw_s,
        "rate": meter.applied / seconds,
        "seconds": seconds,
        "cpu_us": cpu / meter.applied * 1e6,
        "batch_p50": percentile(meter.batch_ms, 50),
        "batch_p99": percentile(meter.batch_ms, 99),
        "batches": len(meter.batch_ms),
        "tracked": tracked,
        "entries": entries,
        "members": members,
        "duplicates": sum(r.stats.duplicates for r in runners),
        "dead": sum(r.stats.dead_lettered for r in runners),
    }


async def service_throughput(
    args: argparse.Namespace, env: Env, prefix: str, workers: int
) -> dict[str, Any]:
    """Phase 1b: the same kind of backlog consumed by the service itself, as deployed,
    with `workers` processes (uvicorn --workers; each runs its ledger consumers, members
    of one group). Rate from the first tracked event to the last, by polling the
    tracking rows (the service's batches are not visible from here)."""
    workload = Workload(prefix, env.tenants, args.advocates, random.Random(7 + workers))
    now = datetime.now(UTC)
    records = [
        workload.record(workload.next_event(now - timedelta(seconds=args.events - i)))
        for i in range(args.events)
    ]
    await send_all(args.bootstrap, records)
    base = await applied_events(env)
    async with service_process(args, env, prefix, consume=True, workers=workers) as service:
        print(f"service, {workers} worker process(es): consuming ...", flush=True)
        first: tuple[float, int, float] | None = None
        progress, seen = time.monotonic(), 0
        while True:
            applied = await applied_events(env) - base
            at = time.perf_counter()
            if applied and first is None:
                first = (at, applied, service.group_cpu_seconds())
            if applied >= args.events:
                cpu = service.group_cpu_seconds()
                break
            if applied != seen:
                progress, seen = time.monotonic(), applied
            if time.monotonic() - progress > STALL_SECONDS:
                raise RuntimeError(f"service stalled at {applied}/{args.events}")
            await asyncio.sleep(0.05)
    assert first is not None
    counted = args.events - first[1]
    return {
        "workers": workers,
        "events": args.events,
        "rate": counted / (at - first[0]),
        "cpu_us": (cpu - first[2]) / counted * 1e6,
    }


# --- phase 2: freshness -----------------------------------------------------------


@dataclass(frozen=True)
class Service:
    port: int
    pid: int

    def cpu_seconds(self) -> float:
        """CPU (user + system) of the service process so far (Linux /proc; --workers 1)."""
        return process_cpu_seconds(self.pid) or 0.0

    def group_cpu_seconds(self) -> float:
        """CPU of every process of the service's session (uvicorn's workers too)."""
        return process_group_cpu_seconds(self.pid)


@contextlib.asynccontextmanager
async def service_process(
    args: argparse.Namespace, env: Env, prefix: str, consume: bool, workers: int | None = None
) -> AsyncIterator[Service]:
    """The rewards service in its own process(es); consuming topics under `prefix` or not."""
    workers = args.workers if workers is None else workers
    port = free_port()
    service_env = os.environ | {
        "CHORUS_DATABASE_URL": env.dsn,
        "CHORUS_KAFKA_BOOTSTRAP": args.bootstrap,
        "CHORUS_REDIS_URL": args.redis,
        "CHORUS_INTERNAL_TOKEN_SECRET": SECRET,
        "CHORUS_LOG_LEVEL": "WARNING",
        "CHORUS_REWARDS_TOPIC_PREFIX": prefix,
        "CHORUS_REWARDS_CONSUMERS_ENABLED": "true" if consume else "false",
        "CHORUS_REWARDS_CONSUMER_GROUP": f"bench-svc-{uuid.uuid4().hex[:8]}",
        "CHORUS_REWARDS_OUTBOX_RELAY_ENABLED": "false",
        "CHORUS_REWARDS_SCHEDULER_ENABLED": "false",
        "CHORUS_REWARDS_TRACE_MESSAGES": "true" if args.trace_messages else "false",
        "CHORUS_REWARDS_CONSUMER_INSTANCES": str(args.consumers),
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "uvicorn", "chorus_rewards.app:app", "--host", "127.0.0.1",
        "--port", str(port), "--workers", str(workers), "--log-level", "warning",
        "--no-access-log", env=service_env, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(OSError):
                _, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.close()
                break
            if time.monotonic() > deadline or proc.returncode is not None:
                raise RuntimeError("the rewards service did not start")
            await asyncio.sleep(0.2)
        yield Service(port, proc.pid)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(proc.wait(), 30)


class RawHttp:
    """A minimal keep-alive HTTP/1.1 GET client: the load generator must cost less CPU
    than the service it measures (httpx costs more per request than our route)."""

    def __init__(self, port: int, headers: dict[str, str]) -> None:
        self.port = port
        self.extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, path: str) -> tuple[int, bytes]:
        try:
            return await self._get(path)
        except (asyncio.IncompleteReadError, ConnectionError):
            # uvicorn closes a keep-alive connection idle for 5 s (the freshness watcher's
            # can be, while the consumer is behind): reconnect once.
            self.close()
            return await self._get(path)

    async def _get(self, path: str) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        request = f"GET {path} HTTP/1.1\r\nHost: bench\r\n{self.extra}\r\n"
        self.writer.write(request.encode())
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        return status, await self.reader.readexactly(length)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


def admin_headers(tenant: str) -> dict[str, str]:
    identity = Identity(tenant_id=tenant, principal_id="bench", roles=frozenset({Role.ADMIN}))
    return {IDENTITY_HEADER: mint_internal_token(identity, SECRET, ttl_seconds=3600)}


async def freshness(
    args: argparse.Namespace, env: Env, prefix: str, service: Service, rate: float
) -> dict[str, Any]:
    port = service.port
    tenant = env.tenants[0]
    workload = Workload(prefix, env.tenants, args.advocates, random.Random(int(rate)))
    producer = AIOKafkaProducer(bootstrap_servers=args.bootstrap, acks=1, linger_ms=0)
    await producer.start()
    http = RawHttp(port, admin_headers(tenant))
    sent: dict[str, float] = {}
    seen: dict[str, float] = {}
    pubsub = env.redis.pubsub()
    await pubsub.subscribe(changes_channel(tenant))
    stop = asyncio.Event()

    async def watch() -> None:
        while not stop.is_set():
            msg = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.5)
            if msg is None:
                continue
            notice = json.loads(msg["data"])
            for advocate in notice.get("advocates", []):
                if advocate in sent and advocate not in seen:
                    path = f"/v1/rewards/leaderboards/points/advocates/{advocate}"
                    status, body = await http.get(path)
                    if status == 200 and json.loads(body)["rank"] is not None:
                        seen[advocate] = time.perf_counter()

    # The stream's events are built and encoded before it starts, timed when they will be
    # sent: building them on the fly (models, validation, encoding) took the load
    # generator ~15% of a core at 2,000/s, taken from the system under test.
    start_at = datetime.now(UTC) + timedelta(seconds=3)
    backlog = [
        workload.record(workload.next_event(start_at + timedelta(seconds=i / rate)))
        for i in range(int(rate * args.freshness_seconds) + 1)
    ]

    async def stream() -> int:
        count, started = 0, time.perf_counter()
        next_probe = started
        while time.perf_counter() - started < args.freshness_seconds:
            due = min(int((time.perf_counter() - started) * rate), len(backlog))
            while count < due:  # keep the steady rate, in small bursts
                r = backlog[count]
                await producer.send(r.topic, r.value, key=r.key, headers=r.headers)
                count += 1
            if time.perf_counter() >= next_probe:
                advocate = f"probe-{len(sent):05d}"
                share = workload.share(datetime.now(UTC), (tenant, advocate))
                share = share.model_copy(update={"network": Network.LINKEDIN})
                r = workload.record(share)
                sent[advocate] = time.perf_counter()
                await producer.send(r.topic, r.value, key=r.key, headers=r.headers)
                next_probe += 0.1
            await asyncio.sleep(0.002)
        return count

    watcher = asyncio.create_task(watch())
    try:
        await asyncio.sleep(3)  # let the service join its group and catch up
        cpu0, applied0 = service.cpu_seconds(), await applied_events(env)
        count = await stream()
        deadline = time.monotonic() + 10
        while len(seen) < len(sent) and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.05)  # stragglers: the watcher records them
        # The service's own CPU per event it applied meanwhile (consuming, plus the probes'
        # reads): unlike the latencies, it hardly depends on how busy the machine is.
        applied = await applied_events(env) - applied0
        cpu_us = (service.cpu_seconds() - cpu0) / max(applied, 1) * 1e6
    finally:
        stop.set()
        await watcher
        await pubsub.aclose()  # type: ignore[no-untyped-call]
        await producer.stop()
        http.close()
    latencies = [seen[a] - sent[a] for a in sent if a in seen]
    return {
        "events": count,
        "rate": count / args.freshness_seconds,
        "probes": len(sent),
        "seen": len(seen),
        "p50": percentile(latencies, 50),
        "p99": percentile(latencies, 99),
        "max": max(latencies, default=float("nan")),
        "applied": applied,
        "service_cpu_us": cpu_us if args.workers == 1 else None,
    }


async def applied_events(env: Env) -> int:
    """Events the rewards consumers have committed so far (their tracking rows)."""
    count: int = await env.pool.fetchval("SELECT count(*) FROM processed_events")
    return count


# --- phase 3: reads ---------------------------------------------------------------


async def load_board(redis: Redis, tenant: str, size: int) -> str:
    key = board_key(tenant, Metric.POINTS, "tenant", Period.ALL, None)
    rng = random.Random(1)
    base = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp() * 1000)
    for start in range(0, size, 20_000):
        members = {
            f"adv-{i:07d}": encode_score(
                rng.randint(0, 50_000), base + rng.randint(0, 10**10), None
            )
            for i in range(start, min(start + 20_000, size))
        }
        await redis.zadd(key, members)
    return key


async def timed_reads(
    seconds: float, concurrency: int, read: Any, size: int
) -> tuple[int, list[float], int]:
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds

    async def worker(n: int) -> None:
        nonlocal errors
        rng = random.Random(n)
        i = 0
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            ok = await read(i % 2 == 0, f"adv-{rng.randrange(size):07d}", n)
            latencies.append(time.perf_counter() - started)
            errors += not ok
            i += 1

    await asyncio.gather(*(worker(n) for n in range(concurrency)))
    return len(latencies), latencies, errors


ReadRun = tuple[str, int, float, float, float, int, float | None]
"""label, reads, seconds, p50 ms, p99 ms, errors, CPU us per read (None: not measured)."""


async def reads(args: argparse.Namespace, env: Env, service: Service | None) -> list[ReadRun]:
    tenant = env.tenants[-1]
    print(f"loading a {args.board:,}-advocate board ...", flush=True)
    await load_board(env.redis, tenant, args.board)
    board = BoardQuery(Metric.POINTS)
    viewer = Identity(tenant_id=tenant, principal_id="bench", roles=frozenset({Role.ADMIN}))
    boards = open_leaderboards(env.redis, SettingsCache(env.pool))  # as the service does

    async def in_process(top: bool, advocate: str, _n: int) -> bool:
        if top:
            page = await boards.top(viewer, board, 10, 0, True)
            return len(page.entries) == 10
        found = await boards.standing(viewer, board, advocate, 0, True)
        return found.rank is not None

    results: list[ReadRun] = []
    cpu0 = time.process_time()
    try:
        n, lat, err = await timed_reads(args.read_seconds, args.concurrency, in_process, args.board)
    finally:
        await close_leaderboards(boards)
    cpu = (time.process_time() - cpu0) / max(n, 1) * 1e6  # the load generator included
    results.append(("service layer, in process", n, args.read_seconds, *_pcts(lat), err, cpu))
    if service is not None:
        clients = [RawHttp(service.port, admin_headers(tenant)) for _ in range(args.concurrency)]

        async def over_http(top: bool, advocate: str, worker: int) -> bool:
            path = (
                "/v1/rewards/leaderboards/points?limit=10"
                if top
                else f"/v1/rewards/leaderboards/points/advocates/{advocate}"
            )
            status, _ = await clients[worker].get(path)
            return status == 200

        for i in range(len(clients)):  # warm the connections and caches
            await over_http(i % 2 == 0, "adv-0000001", i)
        cpu0 = service.cpu_seconds()
        n, lat, err = await timed_reads(args.read_seconds, args.concurrency, over_http, args.board)
        # The service process's own CPU per request (with --workers > 1 the work is in
        # the worker processes, not measured here).
        used = (service.cpu_seconds() - cpu0) / max(n, 1) * 1e6 if args.workers == 1 else None
        for client in clients:
            client.close()
        label = f"HTTP API, uvicorn --workers {args.workers}, {args.concurrency} connections"
        results.append((label, n, args.read_seconds, *_pcts(lat), err, used))
    return results


def _pcts(latencies: list[float]) -> tuple[float, float]:
    return percentile(latencies, 50) * 1000, percentile(latencies, 99) * 1000


# --- setup, report, main ------------------------------------------------------------


@dataclass
class Env:
    dsn: str
    prefix: str
    tenants: list[str]
    pool: asyncpg.Pool
    redis: Redis
    extra_topics: list[str] = field(default_factory=list)

    @property
    def topics(self) -> list[str]:
        return [s.topic for s in consumed_specs(self.prefix)] + self.extra_topics


async def cleanup(args: argparse.Namespace, env: Env | None, database: str) -> None:
    """Remove what the run created; a failing step is reported, the others still run."""

    async def redis_keys(env: Env) -> None:
        for tenant in env.tenants:
            keys = [k async for k in env.redis.scan_iter(match=f"chorus:rewards:{{{tenant}}}:*")]
            for i in range(0, len(keys), 500):
                await env.redis.delete(*keys[i : i + 500])
        await env.redis.aclose()
        await env.pool.close()

    async def topics(env: Env) -> None:
        admin = AIOKafkaAdminClient(bootstrap_servers=args.bootstrap)
        await admin.start()
        try:
            existing = set(await admin.list_topics())
            doomed = [t for t in env.topics + [f"{t}.dlq" for t in env.topics] if t in existing]
            if doomed:
                await admin.delete_topics(doomed)
        finally:
            await admin.close()

    steps = [("database", drop_database(args.dsn, database))]
    if env is not None:
        steps = [("redis keys", redis_keys(env)), ("topics", topics(env)), *steps]
    for what, step in steps:
        try:
            await step
        except Exception as exc:
            print(f"cleanup: could not remove the {what}: {exc!r}", file=sys.stderr)


def report(args: argparse.Namespace, results: dict[str, Any]) -> str:
    lines = [
        "",
        f"Rewards benchmark — python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.2f} at the end; trace_messages="
        f"{'on' if args.trace_messages else 'off'}, batch size {args.batch_size}, "
        f"{args.consumers} consumer(s)",
    ]
    t = results.get("throughput")
    if t:
        lines += [
            "",
            f"1. consumer throughput: {t['events']:,} events (30% share.posted, 70% "
            f"engagement.updated), {args.advocates:,} advocates in {args.tenants} tenants",
            format_table(
                ["phase", "events/s", "vs raw", "CPU us/event", "batch p50 ms", "p99 ms"],
                [
                    ["raw aiokafka consume", f"{t['raw_rate']:,.0f}", "100%", "-", "-", "-"],
                    [
                        "ledger path only (--ledger-only)"
                        if args.ledger_only
                        else "rewards consumer (ledger + Redis)",
                        f"{t['rate']:,.0f}",
                        f"{t['rate'] / t['raw_rate']:.1%}",
                        f"{t['cpu_us']:.0f}",
                        f"{t['batch_p50']:.0f}",
                        f"{t['batch_p99']:.0f}",
                    ],
                ],
            ),
            f"   verify: tracked {t['tracked']:,}/{t['events']:,} events, ledger entries "
            f"{t['entries']:,}, board members in Redis {t['members']:,}, duplicates "
            f"{t['duplicates']}, dead-lettered {t['dead']}",
            f"   target >= {TARGET_THROUGHPUT:,} events/s: "
            + ("MET" if t["rate"] >= TARGET_THROUGHPUT else "NOT MET"),
        ]
    for sv in results.get("service", []):
        lines.append(
            f"   the service itself (uvicorn, {sv['workers']} worker process(es), "
            f"{args.partitions} partitions per topic): {sv['rate']:,.0f} events/s, "
            f"{sv['cpu_us']:.0f} us of service CPU per event; target >= "
            f"{TARGET_THROUGHPUT:,}: " + ("MET" if sv["rate"] >= TARGET_THROUGHPUT else "NOT MET")
        )
    runs = results.get("freshness", [])
    if runs:
        lines += ["", "2. freshness: production -> visible through the leaderboard API (HTTP)"]
    for f in runs:
        met = f["p99"] <= TARGET_FRESHNESS_P99 and f["seen"] == f["probes"]
        lines.append(
            f"   at {f['rate']:,.0f} events/s for {args.freshness_seconds:.0f}s: "
            f"{f['seen']}/{f['probes']} probes seen; p50 {f['p50'] * 1000:.0f} ms, p99 "
            f"{f['p99'] * 1000:.0f} ms, max {f['max'] * 1000:.0f} ms; target p99 <= "
            f"{TARGET_FRESHNESS_P99:.0f} s: {'MET' if met else 'NOT MET'}; service CPU "
            f"{_us(f.get('service_cpu_us'))} us per applied event ({f.get('applied', 0):,} "
            "applied meanwhile)"
        )
    r = results.get("reads")
    if r:
        rows = [
            [label, f"{n / secs:,.0f}", f"{p50:.2f}", f"{p99:.2f}", str(err), _us(cpu)]
            for label, n, secs, p50, p99, err, cpu in r
        ]
        lines += [
            "",
            f"3. top-10 / rank reads (half each) on a {args.board:,}-advocate board, "
            f"{args.read_seconds:.0f}s each",
            format_table(["path", "reads/s", "p50 ms", "p99 ms", "errors", "CPU us/read"], rows),
            "   CPU us/read: in process, this whole process (load generator included); over "
            "HTTP, the service process alone",
        ]
        for label, n, secs, _p50, p99, _err, _cpu in r:
            met = n / secs >= TARGET_READS and p99 <= TARGET_READ_P99_MS
            lines.append(
                f"   target >= {TARGET_READS:,}/s and p99 <= {TARGET_READ_P99_MS:.0f} ms, "
                f"{label}: {'MET' if met else 'NOT MET'}"
            )
    return "\n".join(lines)


def _us(cpu: float | None) -> str:
    return "-" if cpu is None else f"{cpu:,.0f}"


async def run(args: argparse.Namespace) -> int:
    suffix = uuid.uuid4().hex[:8]
    database = f"bench_rewards_{suffix}"
    env: Env | None = None
    results: dict[str, Any] = {}
    phases = set(args.phases.split(","))
    try:
        await create_database(args.dsn, database)
        dsn = with_database(args.dsn, database)
        settings = RewardsSettings(CHORUS_DATABASE_URL=dsn)
        conn = await asyncpg.connect(dsn)
        try:
            await apply_migrations(conn, "rewards", list(build_spec(settings).migrations))
        finally:
            await conn.close()
        env = Env(
            dsn=dsn,
            prefix=f"bench{suffix}.",
            tenants=[f"bench-{suffix}-{i}" for i in range(args.tenants)],
            pool=await create_pool(dsn, "rewards", min_size=2, max_size=8),
            redis=Redis.from_url(args.redis, decode_responses=True),
        )
        await ensure_topics(args.bootstrap, env.topics + [f"{t}.dlq" for t in env.topics], 3)
        if "throughput" in phases:
            results["throughput"] = await throughput(args, env)
            # bench/stack_cpu.py ends its consumer-phase window here.
            print(f"rewards consumer done: {args.events} events", flush=True)
        if "service" in phases:
            results["service"] = []
            for workers in (int(w) for w in args.service_workers.split(",")):
                prefix = f"{env.prefix}s{workers}."
                topics = [s.topic for s in consumed_specs(prefix)]
                env.extra_topics += topics
                await ensure_topics(
                    args.bootstrap, topics + [f"{t}.dlq" for t in topics], args.partitions
                )
                results["service"].append(await service_throughput(args, env, prefix, workers))
        if "freshness" in phases:
            results["freshness"] = []
            for i, rate in enumerate(float(r) for r in args.rates.split(",")):
                # Own topics per run: the service starts with no backlog of earlier phases.
                prefix = f"{env.prefix}f{i}."
                topics = [s.topic for s in consumed_specs(prefix)]
                env.extra_topics += topics
                await ensure_topics(args.bootstrap, topics + [f"{t}.dlq" for t in topics], 3)
                async with service_process(args, env, prefix, consume=True) as service:
                    print(f"freshness at {rate:,.0f} events/s ...", flush=True)
                    with collector_paused():  # the prober's own pauses are not staleness
                        found = await freshness(args, env, prefix, service, rate)
                    results["freshness"].append(found)
        if "reads" in phases:
            # Reads alone: this service process consumes nothing.
            async with service_process(args, env, env.prefix, consume=False) as service:
                with collector_paused():
                    results["reads"] = await reads(args, env, service)
    finally:
        await cleanup(args, env, database)
    print(json.dumps(results, default=str))  # the raw figures, whatever happens to the table
    print(report(args, results))
    return 0


def main() -> int:
    tune_gc()  # the collector thresholds the service process runs with (create_service_app)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--advocates", type=int, default=20_000)
    parser.add_argument("--tenants", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--trace-messages", action="store_true")
    parser.add_argument(
        "--ledger-only",
        action="store_true",
        help="throughput phase: the ledger effects alone, no standings, boards or Redis "
        "(what the ledger path costs by itself; not the service)",
    )
    parser.add_argument(
        "--rates", default="500,2000", help="freshness runs, in order (low first: no backlog)"
    )
    parser.add_argument("--freshness-seconds", type=float, default=20)
    parser.add_argument("--board", type=int, default=1_000_000)
    parser.add_argument("--read-seconds", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument(
        "--consumers",
        type=int,
        default=RewardsSettings.model_fields["consumer_instances"].default,
        help="ledger consumers (one group, co-partitioned) in the consuming process; "
        "default: the service's",
    )
    parser.add_argument(
        "--phases",
        default="throughput,freshness,reads",
        help="also: service (the backlog consumed by the service process(es), as deployed)",
    )
    parser.add_argument(
        "--service-workers",
        default="1,2",
        help="the service phase's runs: worker processes each, in order",
    )
    parser.add_argument(
        "--partitions",
        type=int,
        default=3,
        help="partitions of the service phase's topics (the platform's default: 3)",
    )
    parser.add_argument(
        "--bootstrap", default=os.environ.get("CHORUS_KAFKA_BOOTSTRAP", DEFAULT_KAFKA_BOOTSTRAP)
    )
    parser.add_argument(
        "--dsn",
        default=os.environ.get("CHORUS_DATABASE_URL", DEFAULT_DATABASE_URL),
    )
    parser.add_argument("--redis", default=os.environ.get("CHORUS_REDIS_URL", DEFAULT_REDIS_URL))
    return asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
