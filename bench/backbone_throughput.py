"""Backbone throughput: raw aiokafka consumption vs the `ConsumerRunner`, on the local stack.

One run, in a throwaway topic `bench.<random>` and Postgres schema `bench_<random>`
(both removed at the end):

1. produce N small `Ping` CloudEvents (varied keys; each with its own W3C
   `traceparent`, as events appended while serving a traced request carry one)
   with a plain AIOKafkaProducer;
2. raw: a plain AIOKafkaConsumer (fresh group, earliest) that only counts records,
   `--raw-runs` times (median reported: it is short, so the noisiest figure);
3. runner: `ConsumerRunner` (fresh group, empty tables) with a trivial transactional
   handler — by default `testkit.record_effects`, one `effects` row per event
   through one `executemany` per batch; `--handler unnest` sends one
   `INSERT ... SELECT FROM unnest(...)` statement per batch instead — once as a
   service runs it by default (a span per message only when spans are exported;
   no exporter here, so none) and once with `trace_messages=True` (what an OTLP
   exporter costs);
4. verify each runner run applied exactly N distinct events once, print a table.

Rates are measured from the first record in hand (raw: first non-empty `getmany`;
runner: first handler call) to the last one done (raw: counted; runner: its batch
committed). Group join and topic metadata are not counted. "CPU us/event" is this
process's CPU time over the same window: unlike events/s it hardly moves when other
work shares the machine. "PG CPU us/event" is the CPU time of the runner's Postgres
backends over the runner phase (local server only, from /proc).

    .venv/bin/python bench/backbone_throughput.py [--events 200000] [--partitions 3]
        [--batch-size 500] [--handler executemany|unnest] [--runner both|on|off]
        [--raw-runs 3] [--tracing sdk|none] [--no-traceparent]
        [--bootstrap HOST:PORT] [--dsn URL]

Bootstrap and DSN default to $CHORUS_KAFKA_BOOTSTRAP / $CHORUS_DATABASE_URL, else the
local stack (`python -m chorus_devstack up --infra-only`).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import logging
import os
import random
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from chorus_devstack.settings import (  # the stack's ports, offset included
    DEFAULT_DATABASE_URL,
    DEFAULT_KAFKA_BOOTSTRAP,
)
from chorus_events.bus import ensure_topics
from chorus_events.consumer import AfterCommit, ConsumerConfig, ConsumerRunner, Handler
from chorus_events.envelope import Envelope, encode
from chorus_events.testkit import EFFECTS_DDL, Ping, ping_spec, record_effects
from chorus_events.workers import EVENTS_MIGRATIONS
from chorus_platform.db import create_pool
from chorus_platform.gc_tuning import tune_gc
from chorus_platform.migrate import apply_migrations

try:
    from bench._common import format_table, peak_rss_mib, percentile, process_cpu_seconds
except ModuleNotFoundError:  # run as a script: bench/ itself is sys.path[0]
    from _common import (  # type: ignore[no-redef,import-not-found]
        format_table,
        peak_rss_mib,
        percentile,
        process_cpu_seconds,
    )

TARGET = 0.50
"""The runner, as a service runs it by default, must reach this share of raw throughput."""
STALL_SECONDS = 60.0
"""Give up on a phase when no progress is made for this long."""

log = logging.getLogger("bench.backbone_throughput")


@dataclass(frozen=True)
class Mark:
    """A point in time: wall clock and this process's CPU clock."""

    wall: float
    cpu: float

    @staticmethod
    def now() -> Mark:
        return Mark(time.perf_counter(), time.process_time())


@dataclass
class Phase:
    name: str
    events: int
    start: Mark
    end: Mark
    rss_mib: float
    commit_gaps_ms: list[float] = field(default_factory=list)
    """Runner only: wall time between consecutive batch commits."""
    db_cpu_seconds: float | None = None
    """Runner only: CPU time of the pool's Postgres backends (local server only)."""

    @property
    def seconds(self) -> float:
        return self.end.wall - self.start.wall

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else float("nan")

    @property
    def cpu_us_per_event(self) -> float:
        return (self.end.cpu - self.start.cpu) / self.events * 1e6

    @property
    def db_cpu_us_per_event(self) -> float | None:
        return None if self.db_cpu_seconds is None else self.db_cpu_seconds / self.events * 1e6


@dataclass
class Check:
    name: str
    expected: int
    effect_rows: int
    distinct_events: int
    distinct_seqs: int
    tracked: int
    duplicates_skipped: int
    dead_lettered: int

    @property
    def ok(self) -> bool:
        counts = (self.effect_rows, self.distinct_events, self.distinct_seqs, self.tracked)
        return all(c == self.expected for c in counts) and self.dead_lettered == 0


# --- handlers -------------------------------------------------------------------


async def insert_effects_unnest(
    batch: Sequence[Envelope[Any]], conn: asyncpg.Connection
) -> AfterCommit | None:
    """Same rows as `record_effects`, in one statement per batch."""
    await conn.execute(
        "INSERT INTO effects (event_id, seq) SELECT * FROM unnest($1::text[], $2::int[])",
        [env.id for env in batch],
        [env.payload.seq for env in batch],
    )
    return None


HANDLERS: dict[str, tuple[Handler, str]] = {
    "executemany": (
        record_effects,
        "testkit.record_effects: 1 effects row per event, one executemany per batch",
    ),
    "unnest": (
        insert_effects_unnest,
        "1 effects row per event, one INSERT ... SELECT FROM unnest per batch",
    ),
}


# --- setup and teardown ---------------------------------------------------------


async def create_schema(dsn: str, schema: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await apply_migrations(conn, schema, [EVENTS_MIGRATIONS])
        await conn.execute(f'SET search_path TO "{schema}"')
        await conn.execute(EFFECTS_DDL)
    finally:
        await conn.close()


async def drop_schema(dsn: str, schema: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        await conn.close()


async def delete_topics(bootstrap: str, topics: Sequence[str]) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10_000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        doomed = [t for t in topics if t in existing]
        if doomed:
            await admin.delete_topics(doomed)
    finally:
        await admin.close()


async def cleanup(step: Awaitable[None], what: str) -> None:
    """Run a teardown step; a failure is reported, never allowed to mask the run's outcome."""
    try:
        await step
    except Exception as exc:
        log.warning("could not remove %s: %r (remove it by hand)", what, exc)


# --- phases ---------------------------------------------------------------------


async def produce(bootstrap: str, topic: str, n: int, traceparent: bool) -> Phase:
    """Encode and send `n` Pings; timed end to end (encode + send + all acks)."""
    spec = ping_spec(topic)
    bits = random.getrandbits
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        client_id="bench-producer",
        acks=1,
        linger_ms=20,
        max_batch_size=256 * 1024,
    )
    await producer.start()
    try:
        start = Mark.now()
        pending: list[asyncio.Future[Any]] = []
        for seq in range(n):
            payload = Ping(tenant_id=f"t{seq % 50}", seq=seq, entity=f"e{seq % 101}")
            extra = (
                {"traceparent": f"00-{bits(128):032x}-{bits(64):016x}-01"} if traceparent else None
            )
            record = encode(spec, payload, source="/chorus/bench", extra_headers=extra)
            pending.append(
                await producer.send(
                    topic, value=record.value, key=record.key, headers=record.headers
                )
            )
            if len(pending) >= 10_000:  # bounds memory; the pipeline stays full
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
        end = Mark.now()
    finally:
        await producer.stop()
    return Phase("produce (encode+send, acks=1)", n, start, end, peak_rss_mib())


async def consume_raw(bootstrap: str, topic: str, n: int) -> Phase:
    """A plain consumer in a fresh group that counts records; nothing else."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"bench-raw-{uuid.uuid4().hex[:8]}",
        client_id="bench-raw",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        count = 0
        first: Mark | None = None
        progress = time.monotonic()
        while count < n:
            fetched = await consumer.getmany(timeout_ms=1000)
            if not fetched:
                if time.monotonic() - progress > STALL_SECONDS:
                    raise RuntimeError(f"raw consumer stalled at {count}/{n}")
                continue
            first = first or Mark.now()
            for records in fetched.values():
                count += len(records)
            progress = time.monotonic()
        last = Mark.now()
    finally:
        await consumer.stop()
    assert first is not None
    return Phase("raw aiokafka consume", count, first, last, peak_rss_mib())


class BackendClock:
    """CPU time of the Postgres backends serving a pool, read from /proc.

    Only meaningful when the server runs on this machine (the local stack); then the
    pool's `application_name` (`chorus-<schema>`) finds its backends.
    """

    def __init__(self, pool: asyncpg.Pool, application_name: str) -> None:
        self.pool = pool
        self.application_name = application_name
        self.baseline: dict[int, float] = {}

    async def _sample(self) -> dict[int, float] | None:
        local = await self.pool.fetchval(
            "SELECT coalesce(inet_server_addr() <<= '127.0.0.0/8'::inet "
            "OR inet_server_addr() = '::1'::inet, true)"
        )
        if not local:
            return None
        pids = await self.pool.fetch(
            "SELECT pid FROM pg_stat_activity WHERE application_name = $1",
            self.application_name,
        )
        samples = {r["pid"]: process_cpu_seconds(r["pid"]) for r in pids}
        if any(v is None for v in samples.values()):
            return None
        return {pid: v for pid, v in samples.items() if v is not None}

    async def start(self) -> None:
        self.baseline = await self._sample() or {}

    async def elapsed(self) -> float | None:
        """CPU seconds since `start` (backends opened since then count in full)."""
        now = await self._sample()
        if now is None or not self.baseline:
            return None
        return sum(cpu - self.baseline.get(pid, 0.0) for pid, cpu in now.items())


class Meter:
    """Wraps the handler: notes the first call and each commit, signals at `target` applied."""

    def __init__(self, handler: Handler, target: int) -> None:
        self.handler = handler
        self.target = target
        self.applied = 0
        self.first: Mark | None = None
        self.commits: list[Mark] = []
        self.done = asyncio.Event()

    async def __call__(
        self, batch: Sequence[Envelope[Any]], conn: asyncpg.Connection
    ) -> AfterCommit | None:
        self.first = self.first or Mark.now()
        await self.handler(batch, conn)
        size = len(batch)

        async def committed() -> None:  # the runner calls it only after its commit
            self.commits.append(Mark.now())
            self.applied += size
            if self.applied >= self.target:
                self.done.set()

        return committed


async def consume_runner(
    args: argparse.Namespace, pool: asyncpg.Pool, schema: str, topic: str, trace: bool | None
) -> tuple[Phase, Check]:
    n = args.events
    async with pool.acquire() as conn:  # every run starts from empty tables
        await conn.execute("TRUNCATE effects, processed_events")
    db_clock = BackendClock(pool, f"chorus-{schema}")
    await db_clock.start()
    meter = Meter(HANDLERS[args.handler][0], n)
    group = f"bench-runner-{uuid.uuid4().hex[:8]}"
    runner = ConsumerRunner(
        bootstrap=args.bootstrap,
        pool=pool,
        handler=meter,
        service="bench",
        config=ConsumerConfig(
            group=group,
            specs=[ping_spec(topic)],
            batch_size=args.batch_size,
            partitions=args.partitions,
            trace_messages=trace,
        ),
    )
    await runner.start()
    try:
        ended = asyncio.ensure_future(runner.wait())
        seen = -1
        while not meter.done.is_set():
            reached = asyncio.ensure_future(meter.done.wait())
            await asyncio.wait(
                {reached, ended}, timeout=STALL_SECONDS, return_when="FIRST_COMPLETED"
            )
            reached.cancel()
            if ended.done():
                raise RuntimeError(f"runner ended early: {runner.failure!r}")
            if not meter.done.is_set() and meter.applied == seen:
                raise RuntimeError(f"runner stalled at {meter.applied}/{n}")
            seen = meter.applied
        db_cpu = await db_clock.elapsed()
    finally:
        await runner.stop()
    assert meter.first is not None
    walls = [c.wall for c in meter.commits]
    gaps = [(b - a) * 1000 for a, b in itertools.pairwise(walls)]
    name = "runner (service default)" if trace is None else f"runner trace_messages={trace}"
    phase = Phase(name, meter.applied, meter.first, meter.commits[-1], peak_rss_mib(), gaps, db_cpu)
    row = await pool.fetchrow(
        "SELECT count(*) AS n, count(DISTINCT event_id) AS ids, count(DISTINCT seq) AS seqs, "
        "(SELECT count(*) FROM processed_events WHERE consumer_group = $1) AS tracked "
        "FROM effects",
        group,
    )
    assert row is not None
    stats = runner.stats
    check = Check(
        name,
        n,
        row["n"],
        row["ids"],
        row["seqs"],
        row["tracked"],
        stats.duplicates,
        stats.dead_lettered,
    )
    return phase, check


# --- report ---------------------------------------------------------------------


def report(
    args: argparse.Namespace,
    phases: list[Phase],
    raw_runs: list[Phase],
    checks: list[Check],
    load: tuple[tuple[float, ...], tuple[float, ...]],
) -> str:
    raw = next((p for p in phases if p.name.startswith("raw")), None)

    def share(p: Phase) -> str:
        if raw is None or not p.name.startswith("runner"):
            return "-"
        return f"{p.rate / raw.rate:.1%}"

    def gap(p: Phase, pct: float) -> str:
        return f"{percentile(p.commit_gaps_ms, pct):.1f}" if p.commit_gaps_ms else "-"

    table = format_table(
        [
            "phase",
            "events",
            "seconds",
            "events/s",
            "vs raw",
            "CPU us/event",
            "PG CPU us/event",
            "commit gap p50 ms",
            "p99 ms",
            "peak RSS MiB",
        ],
        [
            [
                p.name,
                f"{p.events:,}",
                f"{p.seconds:.2f}",
                f"{p.rate:,.0f}",
                share(p),
                f"{p.cpu_us_per_event:.1f}",
                "-" if p.db_cpu_us_per_event is None else f"{p.db_cpu_us_per_event:.1f}",
                gap(p, 50),
                gap(p, 99),
                f"{p.rss_mib:.0f}",
            ]
            for p in phases
        ],
    )
    lines = [
        "",
        f"Backbone throughput: {args.events:,} Ping events, {args.partitions} partitions, "
        f"batch size {args.batch_size}",
        f"handler: {HANDLERS[args.handler][1]}",
        f"tracing: {args.tracing_label}; events "
        f"{'carry' if args.traceparent else 'have no'} traceparent",
        f"gc thresholds {gc.get_threshold()} (chorus_platform.gc_tuning, as in a service)",
        f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average "
        f"{load[0][0]:.2f} at start, {load[1][0]:.2f} at end",
        "",
        table,
        "",
    ]
    if len(raw_runs) > 1:
        rates = ", ".join(f"{p.rate:,.0f}" for p in raw_runs)
        lines.append(f"raw runs (events/s): {rates}; the table shows the median")
    for c in checks:
        lines.append(
            f"verify {c.name}: effects {c.effect_rows:,} rows, {c.distinct_events:,} distinct "
            f"event ids, {c.distinct_seqs:,} distinct seqs, {c.tracked:,} tracked "
            f"(expected {c.expected:,} each); duplicates skipped {c.duplicates_skipped}, "
            f"dead-lettered {c.dead_lettered} -> {'OK' if c.ok else 'FAILED'}"
        )
    runners = [p for p in phases if p.name.startswith("runner")]
    headline = next(
        (p for p in runners if p.name.endswith("(service default)")),
        runners[0] if runners else None,
    )
    if raw is not None and headline is not None:
        achieved = headline.rate / raw.rate
        verdict = "MET" if achieved >= TARGET else "NOT MET"
        lines.append(f"target: {headline.name} >= {TARGET:.0%} of raw: {achieved:.1%} -> {verdict}")
    lines.append(f"peak RSS (bench process): {peak_rss_mib():.0f} MiB")
    return "\n".join(lines)


# --- main -----------------------------------------------------------------------


def configure_tracing(mode: str) -> str:
    if mode == "none":
        return "no tracer provider (OpenTelemetry no-op API)"
    from chorus_platform.observability.tracing import configure_tracing as configure

    configure("bench", None)
    return "SDK tracer provider as in a service (chorus_platform, no exporter)"


async def run(args: argparse.Namespace) -> int:
    args.tracing_label = configure_tracing(args.tracing)
    load_start = os.getloadavg()
    suffix = uuid.uuid4().hex[:10]
    topic, schema = f"bench.{suffix}", f"bench_{suffix}"
    topics = [topic, f"{topic}.dlq"]
    phases: list[Phase] = []
    raw_runs: list[Phase] = []
    checks: list[Check] = []
    pool: asyncpg.Pool | None = None
    try:
        await create_schema(args.dsn, schema)
        await ensure_topics(args.bootstrap, topics, args.partitions)
        pool = await create_pool(args.dsn, schema, min_size=1, max_size=4)
        print(f"producing {args.events:,} events to {topic} ...", flush=True)
        phases.append(await produce(args.bootstrap, topic, args.events, args.traceparent))
        for i in range(args.raw_runs):
            print(f"raw consume {i + 1}/{args.raw_runs} ...", flush=True)
            raw_runs.append(await consume_raw(args.bootstrap, topic, args.events))
        median = statistics.median_low(p.rate for p in raw_runs)
        phases.append(next(p for p in raw_runs if p.rate == median))
        choices: dict[str, list[bool | None]] = {
            "both": [None, True], "on": [True], "default": [None]
        }  # fmt: skip
        modes = choices[args.runner]
        for trace in modes:
            print(f"runner trace_messages={trace} ...", flush=True)
            phase, check = await consume_runner(args, pool, schema, topic, trace)
            phases.append(phase)
            checks.append(check)
    finally:
        if pool is not None:
            await pool.close()
        await cleanup(drop_schema(args.dsn, schema), f"schema {schema}")
        await cleanup(delete_topics(args.bootstrap, topics), f"topics {topics}")
    print(report(args, phases, raw_runs, checks, (load_start, os.getloadavg())))
    return 0 if all(c.ok for c in checks) else 1


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=(__doc__ or "").split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--events", type=int, default=200_000, help="events to produce")
    parser.add_argument("--partitions", type=int, default=3, help="partitions of the topic")
    parser.add_argument("--batch-size", type=int, default=500, help="ConsumerConfig.batch_size")
    parser.add_argument(
        "--handler", choices=sorted(HANDLERS), default="executemany", help="runner handler"
    )
    parser.add_argument(
        "--runner",
        choices=["both", "on", "default"],
        default="both",
        help="runner runs: as a service by default, with a span per message, or both",
    )
    parser.add_argument("--raw-runs", type=int, default=3, help="raw consumer runs (median)")
    parser.add_argument(
        "--tracing",
        choices=["sdk", "none"],
        default="sdk",
        help="sdk: install the OpenTelemetry SDK provider as every service does",
    )
    parser.add_argument(
        "--traceparent",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="give each event its own W3C traceparent, like events from traced requests",
    )
    parser.add_argument(
        "--bootstrap",
        default=os.environ.get("CHORUS_KAFKA_BOOTSTRAP", DEFAULT_KAFKA_BOOTSTRAP),
        help="Kafka bootstrap ($CHORUS_KAFKA_BOOTSTRAP)",
    )
    parser.add_argument(
        "--dsn",
        default=os.environ.get("CHORUS_DATABASE_URL", DEFAULT_DATABASE_URL),
        help="PostgreSQL DSN ($CHORUS_DATABASE_URL)",
    )
    args = parser.parse_args(argv)
    if args.events < 1 or args.raw_runs < 1 or args.batch_size < 1 or args.partitions < 1:
        parser.error("--events, --raw-runs, --batch-size and --partitions must be positive")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # The collector thresholds every service process runs with (raw and runner alike).
    tune_gc()
    return asyncio.run(run(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
