"""Metrics benchmark: ingestion throughput and top-contributors KPI latency, on the local stack.

Everything runs in a throwaway Postgres schema `bench_metrics_<random>` and on
private topics `bench.<random>.clicks.raw` (removed at the end), so the
platform's topics and other runs are untouched.

1. Ingestion: seed S shares (posted over a year), produce N `click.recorded`
   events (varied visitors, user agents and prefixes, so every fraud rule has
   work) with a plain AIOKafkaProducer, then run the service's real handler
   (`consumers.on_engagement`) in the real `ConsumerRunner` (`--consumers N` of one
   group, as `CHORUS_METRICS_INGEST_CONSUMER_INSTANCES` runs them; with `--processes P`
   in P processes, as P replicas of the service would), the
   `engagement.updated` flusher and the contributor-rankings fold. The headline is
   measured from the first batch handled to the moment every click is judged and
   committed with its share aggregates AND every dirty share has been flushed to
   an `engagement.updated` event in the outbox; the time until the contributor
   rankings (a KPI read model, folded every few seconds) have caught up is printed
   beside it. (Publishing outbox rows to Kafka is the relay's job, benchmarked by
   bench/backbone_throughput.py.) Also prints CPU per click of this process and of
   its pool's PostgreSQL backends (/proc), without the backend of the bench's own
   progress polls. Which share a click lands on: uniformly among all S by default
   (every click on a different share's rows, the worst case for per-share
   coalescing), or with `--click-age-days D` by the share's age, exponential with
   mean D days (engagement on a post decays within days of posting).
2. KPI latency: generate a large tenant server-side (E engagements over S shares),
   ANALYZE, then time the top-contributors use case (SQL + shaping, no HTTP) over
   Q queries with varied filters; report p50/p99. `--kpi-schema NAME` generates
   into a kept schema and reuses it on later runs of the same sizes.
3. With `--kpi-reports all` (or a comma list), every KPI report on the same data set
   over dashboard shapes the latency mix leaves out (day buckets in whole- and
   half-hour zones, a whole year): the median of `--report-runs` runs each.

    .venv/bin/python bench/metrics_bench.py [--clicks 200000] [--shares 20000]
        [--click-age-days 2] [--processes 2] [--consumers 2 --partitions 6]
        [--kpi-engagements 2000000]
        [--kpi-shares 200000] [--queries 300]
        [--compare-raw] [--kpi-schema bench_kpi_10m] [--kpi-reports all]
        [--no-read-models]

`--no-read-models` drops, after seeding, the triggers of the run's own schema that
maintain the KPI read models: ingestion proper (click rows and fraud history, share
totals, `engagement.updated` through the outbox) measured by itself. Not the service.

Targets: >= 10,000 engagements/s; top-contributors p99 <= 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import contextlib
import dataclasses
import logging
import math
import multiprocessing
import os
import random
import secrets
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from chorus_devstack.settings import DEFAULT_DATABASE_URL, DEFAULT_KAFKA_BOOTSTRAP
from chorus_events.bus import ensure_topics
from chorus_events.consumer import ConsumerConfig, ConsumerRunner
from chorus_events.contracts import CLICK_RECORDED, ClickRecorded
from chorus_events.envelope import encode
from chorus_events.workers import EVENTS_MIGRATIONS
from chorus_metrics.aggregation.flusher import Flusher
from chorus_metrics.aggregation.rollup_fold import RollupFolder, fold_rollups
from chorus_metrics.app import MIGRATIONS
from chorus_metrics.consumers import on_engagement
from chorus_metrics.kpis import service as kpis
from chorus_metrics.kpis.query import (
    Bucket,
    KpiQuery,
    Sql,
    bucket_days,
    bucket_expr,
    period,
    share_filters,
)
from chorus_metrics.kpis.repository import snapshot
from chorus_metrics.settings import MetricsSettings
from chorus_platform.db import create_pool
from chorus_platform.gc_tuning import tune_gc
from chorus_platform.migrate import apply_migrations

try:
    from bench._common import collector_paused
except ModuleNotFoundError:  # run as a script: bench/ itself is sys.path[0]
    from _common import collector_paused  # type: ignore[no-redef,import-not-found]

# ruff: noqa: S608  (SQL from constant fragments and integers; values are bound)

log = logging.getLogger("bench.metrics")
NETWORKS = ("linkedin", "x", "facebook", "xing")
BROWSERS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Version/17.5 Safari",
    "Mozilla/5.0 (X11; Linux x86_64; rv:135.0) Gecko/20100101 Firefox/135.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
)
BOTS = ("Googlebot/2.1 (+http://www.google.com/bot.html)", "python-requests/2.32.3")
START = datetime(2026, 1, 1, tzinfo=UTC)


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    rank = max(math.ceil(pct / 100 * len(ordered)), 1)
    return ordered[min(rank, len(ordered)) - 1]


async def seed_shares(
    conn: asyncpg.Connection, tenant: str, count: int, advocates: int
) -> list[tuple[datetime, str]]:
    """Seed `count` shares posted over a year; return (posted_at, share_id), oldest first."""
    rnd = random.Random(1)
    records = [
        (
            tenant,
            f"shr-{i}",
            f"cnt-{i % 300}",
            f"adv-{rnd.randrange(advocates)}",
            [f"team-{rnd.randrange(40)}"],
            rnd.choice(NETWORKS),
            ["#bench"],
            START + timedelta(seconds=rnd.randrange(365 * 86400)),
        )
        for i in range(count)
    ]
    await conn.copy_records_to_table(
        "shares",
        columns=[
            "tenant_id",
            "share_id",
            "content_id",
            "advocate_id",
            "team_ids",
            "network",
            "campaign_hashtags",
            "posted_at",
        ],
        records=records,
    )
    return sorted((r[7], r[1]) for r in records)


# --- 1. ingestion ------------------------------------------------------------------


class SharePicker:
    """Which share a click lands on: uniformly among all (the default), or, with
    `mean_age_days`, on a share whose age (from the newest share) is drawn from an
    exponential distribution of that mean: engagement on a post decays within days."""

    def __init__(self, shares: list[tuple[datetime, str]], mean_age_days: float | None) -> None:
        self.posted = [posted for posted, _ in shares]
        self.ids = [share_id for _, share_id in shares]
        self.mean_age_days = mean_age_days

    def pick(self, rnd: random.Random, clicked: set[str]) -> str:
        if self.mean_age_days is None:
            share_id = self.ids[rnd.randrange(len(self.ids))]
        else:
            age = timedelta(days=rnd.expovariate(1 / self.mean_age_days))
            # The newest share posted at or before (newest - age); the oldest past the range.
            at = bisect.bisect_right(self.posted, self.posted[-1] - age) - 1
            share_id = self.ids[max(at, 0)]
        clicked.add(share_id)
        return share_id

    def describe(self) -> str:
        if self.mean_age_days is None:
            return f"uniformly on {len(self.ids):,} shares posted over a year"
        return (
            f"on {len(self.ids):,} shares posted over a year, by age from the newest "
            f"(exponential, mean {self.mean_age_days:g} days)"
        )


async def produce_clicks(
    bootstrap: str, spec: Any, tenant: str, clicks: int, picker: SharePicker
) -> tuple[float, int]:
    """Produce the clicks; return the seconds it took and how many shares they landed on."""
    rnd = random.Random(2)
    clicked: set[str] = set()
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, linger_ms=20, max_batch_size=512 * 1024, acks=1
    )
    await producer.start()
    started = time.perf_counter()
    now = datetime.now(UTC)
    try:
        pending = []
        for i in range(clicks):
            bot = rnd.random() < 0.03
            payload = ClickRecorded(
                tenant_id=tenant,
                click_id=uuid.UUID(int=rnd.getrandbits(128)),
                link_code="bench1234",
                share_id=picker.pick(rnd, clicked),
                occurred_at=now + timedelta(milliseconds=i),
                visitor_hash=f"{rnd.randrange(clicks // 3):064x}",  # repeat visitors: duplicates
                user_agent=rnd.choice(BOTS) if bot else rnd.choice(BROWSERS),
                ip_prefix=f"10.{rnd.randrange(256)}.{rnd.randrange(256)}.0/24",
            )
            record = encode(spec, payload, source="/chorus/bench")
            pending.append(
                await producer.send(
                    record.topic, record.value, key=record.key, headers=record.headers
                )
            )
            if len(pending) >= 5000:
                await asyncio.gather(*pending)
                pending = []
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return time.perf_counter() - started, len(clicked)


def _ingest_runners(
    args: argparse.Namespace, pool: asyncpg.Pool, run: str, spec: Any, handler: Any
) -> list[ConsumerRunner]:
    """`--consumers` runners of the bench's group, as one service process runs them with
    CHORUS_METRICS_INGEST_CONSUMER_INSTANCES=N."""
    return [
        ConsumerRunner(
            bootstrap=args.bootstrap,
            pool=pool,
            handler=handler,
            service="bench",
            config=ConsumerConfig(
                group=f"bench-{run}",
                specs=[spec],
                batch_size=args.batch_size,
                batch_timeout_ms=100,
                partitions=args.partitions,
                trace_messages=False,
                tracked=False,  # as the service runs its ingest consumer (metrics app.py)
            ),
        )
        for _ in range(args.consumers)
    ]


def _stamping_handler(first_batch: Any) -> Any:
    """The service's ingest handler, stamping `first_batch.value` (a multiprocessing
    Value: wall time, shared across `--processes`) when its first batch starts."""

    async def handler(batch: Any, conn: asyncpg.Connection) -> Any:
        if not first_batch.value:
            first_batch.value = time.time()
        return await on_engagement(batch, conn)

    return handler


def _click_spec(run: str) -> Any:
    """`click.recorded` on this run's own raw topic."""
    return dataclasses.replace(CLICK_RECORDED, topic=f"bench.{run}.clicks.raw")


@dataclasses.dataclass
class Replica:
    """Shared counters of one more ingesting process (`--processes`)."""

    ready: Any
    go: Any
    stop: Any
    applied: Any  # multiprocessing.Value('q'): events committed by its runners
    first_batch: Any  # multiprocessing.Value('d'): wall time of its first batch, 0 until then


def _replica_main(args: argparse.Namespace, run: str, replica: Replica) -> None:
    """Entry point of a further process (`--processes`): another replica of the service's
    ingest consumers, in the same group; the first process runs the flusher and the fold."""
    tune_gc()
    logging.getLogger("aiokafka").setLevel(logging.WARNING)
    logging.getLogger("chorus_events").setLevel(logging.WARNING)
    asyncio.run(_replica(args, run, replica))


async def _replica(args: argparse.Namespace, run: str, replica: Replica) -> None:
    spec = _click_spec(run)
    schema = f"bench_metrics_{run}"
    pool = await create_pool(args.dsn, schema, min_size=1, max_size=args.consumers + 1)
    runners = _ingest_runners(args, pool, run, spec, _stamping_handler(replica.first_batch))
    replica.ready.set()
    try:
        await asyncio.to_thread(replica.go.wait)
        for runner in runners:
            await runner.start()
        while not replica.stop.is_set():
            replica.applied.value = sum(r.stats.applied for r in runners)
            await asyncio.sleep(0.05)
    finally:
        for runner in runners:
            await runner.stop()
        await pool.close()


async def ingestion(args: argparse.Namespace, pool: asyncpg.Pool, run: str) -> dict[str, Any]:
    tenant = f"bench-{run}"
    spec = _click_spec(run)
    topic = spec.topic
    await ensure_topics(args.bootstrap, [topic, topic + ".dlq"], args.partitions)
    async with pool.acquire() as conn:
        shares = await seed_shares(conn, tenant, args.shares, advocates=max(args.shares // 20, 1))
        # Seeding's rollups are folded before the clock starts (0009), as its triggers were.
        await fold_rollups(conn)
        if args.no_read_models:
            # This run's own schema: its shares and clicks maintain no KPI read model.
            await conn.execute(
                "DROP TRIGGER share_rollups_update ON shares; "
                "DROP TRIGGER engagement_rollups_insert ON clicks; "
                "DROP TRIGGER engagement_rollups_update ON clicks"
            )
    picker = SharePicker(shares, args.click_age_days)
    produce_s, clicked = await produce_clicks(args.bootstrap, spec, tenant, args.clicks, picker)
    log.info("produced %d clicks in %.1fs", args.clicks, produce_s)

    # --processes P: P - 1 more processes of the same group's runners, as P replicas of
    # the service would run (spawned and connected before the clock starts).
    context = multiprocessing.get_context("spawn")
    first_batch = context.Value("d", 0.0)
    runners = _ingest_runners(args, pool, run, spec, _stamping_handler(first_batch))
    replicas = [
        Replica(
            context.Event(),
            context.Event(),
            context.Event(),
            context.Value("q", 0),
            context.Value("d", 0.0),
        )
        for _ in range(args.processes - 1)
    ]
    children = [
        context.Process(target=_replica_main, args=(args, run, r), daemon=True) for r in replicas
    ]
    for child in children:
        child.start()
    for replica in replicas:
        if not await asyncio.to_thread(replica.ready.wait, 60):
            raise RuntimeError("an ingesting replica did not start")
    flusher = Flusher(pool, min_interval=1.0, poll_interval=0.05, limit=2000)
    # The service's default fold interval (contributor rankings, 0009).
    folder = RollupFolder(pool, interval=MetricsSettings().rollup_fold_interval)
    # The bench's own progress polls run on one connection held apart, whose backend's
    # CPU is left out of the service's (they count a growing table 20 times a second).
    poll = await pool.acquire()
    poll_pid = await poll.fetchval("SELECT pg_backend_pid()")
    backends = await _backend_cpu(pool)
    cpu_started = time.process_time()
    children_cpu = {c.pid: _proc_cpu(c.pid) for c in children if c.pid}
    for replica in replicas:
        replica.go.set()
    for runner in runners:
        await runner.start()
    await flusher.start()
    await folder.start()
    deadline = time.monotonic() + args.timeout
    emitted: list[float] = []  # when every click was judged and every share flushed
    try:
        while True:
            # Progress from the runners themselves (events committed), and cheap
            # existence checks: a count(*) of the growing clicks table 20 times a second
            # cost the machine a good part of a core, taken from the system under test.
            judged = sum(r.stats.applied for r in runners)
            judged += sum(r.applied.value for r in replicas)
            # Each check only once the one before it holds: while the clicks are being
            # judged, the dirty check scanned an index full of dead entries (the flusher
            # clears marks as fast as ingestion sets them), ~7 ms a poll, ~4% of the
            # machine taken from the system under test.
            dirty = unfolded = True
            if not emitted and judged >= args.clicks:
                dirty = await poll.fetchval(
                    # Since 0005 the dirty mark lives in share_emissions.
                    "SELECT EXISTS (SELECT 1 FROM share_emissions WHERE tenant_id = $1 "
                    "AND dirty_since IS NOT NULL)",
                    tenant,
                )
                if not dirty:
                    emitted.append(time.time())
            if emitted:
                # Since 0009 contributor rankings are folded from deltas: done when none
                # is left.
                unfolded = await poll.fetchval(
                    "SELECT EXISTS (SELECT 1 FROM contributor_rollup_deltas WHERE tenant_id = $1)",
                    tenant,
                )
                if not unfolded:
                    break
            failed = any(r.failure for r in runners) or any(not c.is_alive() for c in children)
            if time.monotonic() > deadline or failed:
                raise RuntimeError(
                    f"ingestion stalled: {judged} judged, dirty {dirty}, unfolded {unfolded}"
                )
            await asyncio.sleep(0.05)
        done = time.time()
        cpu = time.process_time() - cpu_started
        cpu += sum(_proc_cpu(pid) - t for pid, t in children_cpu.items() if pid)
        after = await _backend_cpu(pool)
        server_cpu = sum(t - backends.get(pid, 0.0) for pid, t in after.items() if pid != poll_pid)
    finally:
        await pool.release(poll)
        await folder.stop()
        await flusher.stop()
        for runner in runners:
            await runner.stop()
        for replica in replicas:
            replica.stop.set()
        for child in children:
            await asyncio.to_thread(child.join, 30)
    # Wall clock (time.time): the replicas' first batches are stamped in other processes.
    stamps = [first_batch.value] + [r.first_batch.value for r in replicas]
    started = min(t for t in stamps if t)
    seconds = done - started
    to_events = emitted[0] - started
    verdicts = dict(
        await pool.fetch(
            "SELECT coalesce(reason, 'valid'), count(*) FROM clicks WHERE tenant_id = $1 "
            "GROUP BY 1",
            tenant,
        )
    )
    if sum(verdicts.values()) != args.clicks:  # every click stored with its verdict
        raise RuntimeError(f"{sum(verdicts.values())} clicks stored of {args.clicks}")
    counted = await pool.fetchval("SELECT sum(clicks) FROM shares WHERE tenant_id = $1", tenant)
    if counted != verdicts.get("valid", 0):  # every valid click counted on its share
        raise RuntimeError(f"{counted} counted on shares, {verdicts.get('valid')} valid")
    events = await pool.fetchval("SELECT count(*) FROM outbox WHERE topic = 'engagement.updated'")
    return {
        "clicks": args.clicks,
        "seconds": seconds,
        "rate": args.clicks / seconds,
        "to_events_s": to_events,
        "to_events_rate": args.clicks / to_events,
        "verdicts": verdicts,
        "counted_valid": counted,
        "events": events,
        "produce_s": produce_s,
        "workload": f"{picker.describe()}; {clicked:,} shares clicked",
        "topic": topic,
        "cpu_us": cpu / args.clicks * 1e6,
        "server_cpu_us": server_cpu / args.clicks * 1e6,
    }


async def _backend_cpu(pool: asyncpg.Pool) -> dict[int, float]:
    """CPU seconds used so far by each PostgreSQL backend of this pool (from /proc:
    the stack's PostgreSQL runs on this machine)."""
    name = await pool.fetchval("SELECT current_setting('application_name')")
    pids = await pool.fetch("SELECT pid FROM pg_stat_activity WHERE application_name = $1", name)
    out = {}
    for row in pids:
        with contextlib.suppress(OSError):
            out[row["pid"]] = _proc_cpu(row["pid"])
    return out


def _proc_cpu(pid: int) -> float:
    """utime + stime of a process, in seconds (a /proc read: no real I/O)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --- 2. KPI latency ----------------------------------------------------------------


_INDEXES = (
    "SELECT c.relname AS indexname, pg_get_indexdef(i.indexrelid) AS indexdef, "
    "  con.conname AS constraint_name, pg_get_constraintdef(con.oid) AS constraintdef, "
    "  t.relname AS tablename "
    "FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
    "JOIN pg_class t ON t.oid = i.indrelid "
    "LEFT JOIN pg_constraint con ON con.conindid = i.indexrelid AND con.contype = 'p' "
    "WHERE t.relnamespace = current_schema()::regnamespace AND t.relname = ANY($1::text[])"
)
# Deterministic pseudo-random integers in [0, n) from a row number: (i, salt) -> int.
_RND = "((hashint8(({i})::bigint * 7919 + {salt}) & 2147483647) % ({n}))"
_POSTED = "timestamptz '2026-01-01 00:00+00' + make_interval(secs => {})".format(
    _RND.format(i="{s}", salt=1, n=365 * 86400)
)
# Bulk loads and index builds: enough memory to sort in one pass.
_LOAD_SETTINGS = ("SET maintenance_work_mem = '256MB'", "SET work_mem = '256MB'")


async def _load_clicks(pool: asyncpg.Pool, tenant: str, shares: int, n: int, total: int) -> None:
    share_of = _RND.format(i="i", salt=2, n=shares)
    click_delay = _RND.format(i="i", salt=3, n=7 * 86400)
    async with pool.acquire() as conn:
        for setting in _LOAD_SETTINGS:
            await conn.execute(setting)
        await conn.execute(
            "INSERT INTO clicks (tenant_id, click_id, share_id, occurred_at, visitor_hash, "
            "  status, reason) "
            "SELECT $1, gen_random_uuid(), 'shr-' || s, "
            f"  {_POSTED.format(s='s')} + make_interval(secs => {click_delay}), "
            f"  lpad(to_hex({_RND.format(i='i', salt=4, n=total)}), 64, '0'), "
            "  CASE WHEN valid THEN 'valid' ELSE 'rejected' END, "
            "  CASE WHEN valid THEN NULL ELSE 'duplicate' END "
            f"FROM (SELECT i, {share_of} AS s, {_RND.format(i='i', salt=5, n=100)} < 85 AS valid "
            "      FROM generate_series(1, $2::bigint) AS i) AS g",
            tenant,
            n,
        )


async def _load_reported(pool: asyncpg.Pool, tenant: str, shares: int, n: int) -> None:
    share_of = _RND.format(i="i", salt=2, n=shares)
    reported_delay = _RND.format(i="i", salt=7, n=7 * 86400)
    async with pool.acquire() as conn:
        for setting in _LOAD_SETTINGS:
            await conn.execute(setting)
        await conn.execute(
            "INSERT INTO reported (tenant_id, source, source_event_id, share_id, network, kind, "
            "  count, cumulative, applied, status, occurred_at) "
            "SELECT $1, 'bench', 'e' || i, 'shr-' || s, 'linkedin', "
            f"  CASE WHEN {_RND.format(i='i', salt=6, n=10)} < 7 THEN 'reactions' "
            "    ELSE 'comments' END, 1, false, 1, 'valid', "
            f"  {_POSTED.format(s='s')} + make_interval(secs => {reported_delay}) "
            f"FROM (SELECT i, {share_of} AS s FROM generate_series(1, $2::bigint) AS i) AS g",
            tenant,
            n,
        )


async def _rebuild(pool: asyncpg.Pool, indexes: list[asyncpg.Record]) -> None:
    async with pool.acquire() as conn:
        for setting in _LOAD_SETTINGS:
            await conn.execute(setting)
        for index in indexes:
            if index["constraint_name"]:
                await conn.execute(
                    f'ALTER TABLE "{index["tablename"]}" ADD CONSTRAINT '
                    f'"{index["constraint_name"]}" {index["constraintdef"]}'
                )
            else:
                await conn.execute(index["indexdef"])


async def load_kpi_tenant(pool: asyncpg.Pool, tenant: str, shares: int, engagements: int) -> float:
    """Generate the tenant server-side: clicks (80%), reported rows (20%), then the
    shares with the totals those rows add up to, inserted in posted_at order as the
    shares consumer would record them. Every index of clicks and reported (primary
    keys included) is dropped for the load and rebuilt after from its own definition
    (far cheaper in bulk than random-order inserts into seven B-trees); the two
    tables load on two connections at once. The shares table keeps its indexes and
    rollup triggers, which build the rollups as ingestion would."""
    started = time.perf_counter()
    advocates = max(shares // 50, 1)
    n_clicks = engagements * 4 // 5
    async with pool.acquire() as conn:
        indexes = list(await conn.fetch(_INDEXES, ["clicks", "reported"]))
        for index in indexes:
            if index["constraint_name"]:
                await conn.execute(
                    f'ALTER TABLE "{index["tablename"]}" DROP CONSTRAINT '
                    f'"{index["constraint_name"]}"'
                )
            else:
                await conn.execute(f'DROP INDEX "{index["indexname"]}"')
    await asyncio.gather(
        _load_clicks(pool, tenant, shares, n_clicks, engagements),
        _load_reported(pool, tenant, shares, engagements - n_clicks),
    )
    log.info("raw engagements loaded in %.1fs", time.perf_counter() - started)
    await asyncio.gather(
        _rebuild(pool, [i for i in indexes if i["tablename"] == "clicks"]),
        _rebuild(pool, [i for i in indexes if i["tablename"] == "reported"]),
    )
    log.info("indexes rebuilt at %.1fs", time.perf_counter() - started)
    async with pool.acquire() as conn:
        for setting in _LOAD_SETTINGS:
            await conn.execute(setting)
        await conn.execute(
            "INSERT INTO shares (tenant_id, share_id, content_id, advocate_id, team_ids, network, "
            "  campaign_hashtags, posted_at, clicks, reactions, comments) "
            "SELECT $1, 'shr-' || s, 'cnt-' || s % 500, 'adv-' || s % $3, "
            # Teams are the advocate's; campaigns the content's.
            "  ARRAY['team-' || s % $3 % 60], "
            "  (ARRAY['linkedin', 'x', 'facebook', 'xing'])[s % 4 + 1], "
            f"  ARRAY['#camp' || s % 5], {_POSTED.format(s='s')}, coalesce(c.n, 0), "
            "  coalesce(r.reactions, 0), coalesce(r.comments, 0) "
            "FROM generate_series(0, $2 - 1) AS s "
            "LEFT JOIN (SELECT share_id, count(*) AS n FROM clicks "
            "  WHERE tenant_id = $1 AND status = 'valid' GROUP BY 1) AS c "
            "  ON c.share_id = 'shr-' || s "
            "LEFT JOIN (SELECT share_id, count(*) FILTER (WHERE kind = 'reactions') AS reactions, "
            "  count(*) FILTER (WHERE kind = 'comments') AS comments FROM reported "
            "  WHERE tenant_id = $1 GROUP BY 1) AS r ON r.share_id = 'shr-' || s "
            "ORDER BY 8",
            tenant,
            shares,
            advocates,
        )
        await fold_rollups(conn)
        log.info("shares and rollups loaded at %.1fs", time.perf_counter() - started)
        for table in (
            "shares",
            "share_rollups",
            "contributor_rollups",
            "contributor_share_ranks",
            "clicks",
            "reported",
        ):
            await conn.execute(f"VACUUM ANALYZE {table}")
    return time.perf_counter() - started


async def raw_top_contributors(
    conn: asyncpg.Connection, q: KpiQuery, *, by_team: bool, order: str, limit: int
) -> list[asyncpg.Record]:
    """The previous implementation (every share of the period, JIT on), for comparison."""
    await conn.execute("SET LOCAL jit = on")
    sql = Sql()
    share_filters(sql, q)
    period(sql, q, "s.posted_at")
    days: list[date] = []
    if q.bucket is not Bucket.NONE and q.start and q.end:
        days = bucket_days(q, q.start, q.end - timedelta(microseconds=1))
    bucket = bucket_expr(sql, q, "s.posted_at", days)
    who = "t.team_id" if by_team else "s.advocate_id"
    source = (
        "shares s CROSS JOIN LATERAL unnest(s.team_ids) AS t(team_id)" if by_team else "shares s"
    )
    if q.team and by_team:
        sql.where(f"t.team_id = {sql.bind(q.team)}")
    rank = "engagement" if order == "engagement" else "shares"
    limit_param = sql.bind(limit)
    grouped = (
        f"SELECT {bucket} AS bucket, {who} AS contributor, count(*) AS shares, "
        f" sum(s.clicks) AS clicks, sum(s.reactions) AS reactions, "
        f" sum(s.comments) AS comments, sum(s.reshares) AS reshares, "
        f" sum(s.clicks + s.reactions + s.comments + s.reshares) AS engagement "
        f"FROM {source} WHERE {sql.condition} GROUP BY 1, 2"
    )
    if q.bucket is Bucket.NONE:
        query = f"{grouped} ORDER BY {rank} DESC, contributor LIMIT {limit_param}"
    else:
        query = (
            f"SELECT bucket, contributor, shares, clicks, reactions, comments, reshares, "
            f" engagement FROM (SELECT *, row_number() OVER (PARTITION BY bucket "
            f"   ORDER BY {rank} DESC, contributor) AS rank FROM ({grouped}) AS per_contributor"
            f") AS ranked WHERE rank <= {limit_param} ORDER BY bucket, rank"
        )
    return list(await conn.fetch(query, *sql.args))


def kpi_queries(tenant: str, count: int) -> list[tuple[KpiQuery, str, bool]]:
    rnd = random.Random(4)
    out = []
    for _ in range(count):
        month = rnd.randint(1, 12)
        start = date(2026, month, 1)
        end = date(2026, month, 28)
        shape = rnd.random()
        if shape < 0.4:  # one month, no buckets
            q = KpiQuery(tenant, "Europe/Berlin", start, end)
        elif shape < 0.7:  # a quarter by week
            q = KpiQuery(
                tenant, "Europe/Berlin", start, end + timedelta(days=60), bucket=Bucket.WEEK
            )
        elif shape < 0.85:  # the whole year by month
            q = KpiQuery(
                tenant,
                "America/New_York",
                date(2026, 1, 1),
                date(2026, 12, 31),
                bucket=Bucket.MONTH,
            )
        else:  # a team or a network over the year
            q = KpiQuery(
                tenant,
                "UTC",
                date(2026, 1, 1),
                date(2026, 12, 31),
                team=f"team-{rnd.randrange(60)}" if rnd.random() < 0.5 else None,
                network=None if rnd.random() < 0.5 else "linkedin",
            )
        out.append((q, rnd.choice(("shares", "engagement")), rnd.random() < 0.2))
    return out


_DATASETS = (
    "CREATE TABLE IF NOT EXISTS bench_kpi_datasets (tenant_id text PRIMARY KEY, "
    "engagements bigint NOT NULL, shares bigint NOT NULL, generated_s double precision "
    "NOT NULL, generated_at timestamptz NOT NULL DEFAULT now())"
)


async def kpi_dataset(args: argparse.Namespace, pool: asyncpg.Pool, run: str) -> dict[str, Any]:
    """The KPI tenant: generated now, or (with --kpi-schema) reused from an earlier run
    with the same sizes, after counting its raw rows again."""
    if args.kpi_schema:
        async with pool.acquire() as conn:
            await conn.execute(_DATASETS)
            row = await conn.fetchrow(
                "SELECT * FROM bench_kpi_datasets WHERE engagements = $1 AND shares = $2",
                args.kpi_engagements,
                args.kpi_shares,
            )
            if row is not None:
                tenant = row["tenant_id"]
                rows = await conn.fetchval(
                    "SELECT (SELECT count(*) FROM clicks WHERE tenant_id = $1) "
                    "+ (SELECT count(*) FROM reported WHERE tenant_id = $1)",
                    tenant,
                )
                shares = await conn.fetchval(
                    "SELECT count(*) FROM shares WHERE tenant_id = $1", tenant
                )
                if (rows, shares) != (args.kpi_engagements, args.kpi_shares):
                    raise RuntimeError(f"kept data set {tenant} has {rows} rows, {shares} shares")
                return {"tenant": tenant, "load_s": row["generated_s"],
                        "reused": row["generated_at"]}  # fmt: skip
    tenant = f"bench-kpi-{run}"
    load_s = await load_kpi_tenant(pool, tenant, args.kpi_shares, args.kpi_engagements)
    log.info("loaded %d engagements in %.1fs", args.kpi_engagements, load_s)
    if args.kpi_schema:
        await pool.execute(
            "INSERT INTO bench_kpi_datasets (tenant_id, engagements, shares, generated_s) "
            "VALUES ($1, $2, $3, $4)",
            tenant,
            args.kpi_engagements,
            args.kpi_shares,
            load_s,
        )
    return {"tenant": tenant, "load_s": load_s, "reused": None}


async def kpi_latency(args: argparse.Namespace, pool: asyncpg.Pool, run: str) -> dict[str, Any]:
    dataset = await kpi_dataset(args, pool, run)
    tenant, load_s = dataset["tenant"], dataset["load_s"]
    timings: dict[str, list[float]] = {"rollups": [], "raw": []}
    by_shape: dict[tuple[str, str], list[float]] = {}
    async with pool.acquire() as conn:
        queries = kpi_queries(tenant, args.queries)
        for q, order, by_team in queries[:10]:  # warm-up
            async with snapshot(conn):
                await kpis.top_contributors(conn, q, by_team=by_team, order=order, limit=10)
        for i, (q, order, by_team) in enumerate(queries):
            # Interleaved, alternating which goes first: same load, same cache state.
            variants = ["rollups", "raw"] if args.compare_raw else ["rollups"]
            results: dict[str, Any] = {}
            for variant in variants if i % 2 == 0 else variants[::-1]:
                started = time.perf_counter()
                # As the API runs it: one read-only snapshot per report.
                async with snapshot(conn):
                    if variant == "rollups":
                        report = await kpis.top_contributors(
                            conn, q, by_team=by_team, order=order, limit=10
                        )
                        results[variant] = report.rows
                    else:
                        rows = await raw_top_contributors(
                            conn, q, by_team=by_team, order=order, limit=10
                        )
                        results[variant] = [_shaped(r) for r in rows]
                elapsed = (time.perf_counter() - started) * 1000
                timings[variant].append(elapsed)
                by_shape.setdefault((variant, shape_of(q)), []).append(elapsed)
            if "raw" in results and results["raw"] != results["rollups"]:
                raise AssertionError(f"rollups and raw shares disagree on {q}")
    return {
        "tenant": tenant,
        "engagements": args.kpi_engagements,
        "shares": args.kpi_shares,
        "load_s": load_s,
        "reused": dataset["reused"],
        "queries": len(timings["rollups"]),
        "stats": {
            v: (percentile(t, 50), percentile(t, 99), max(t)) for v, t in timings.items() if t
        },
        "by_shape": {
            key: (len(t), percentile(t, 50), percentile(t, 99)) for key, t in by_shape.items()
        },
    }


REPORTS = (
    "top-contributors",
    "reach",
    "engagement",
    "traffic",
    "sentiment",
    "hashtags",
    "adoption",
    "share-rate",
)


def report_shapes(tenant: str) -> dict[str, KpiQuery]:
    """Every report over the periods and buckets a dashboard asks for, beyond the latency
    mix (which is top contributors only): day buckets, and a whole year."""
    year = (date(2026, 1, 1), date(2026, 12, 31))
    return {
        "month by day, Berlin": KpiQuery(
            tenant, "Europe/Berlin", date(2026, 3, 1), date(2026, 3, 31), bucket=Bucket.DAY
        ),
        "month by day, Kolkata": KpiQuery(
            tenant, "Asia/Kolkata", date(2026, 3, 1), date(2026, 3, 31), bucket=Bucket.DAY
        ),
        "quarter by week, New York": KpiQuery(
            tenant, "America/New_York", date(2026, 4, 1), date(2026, 6, 30), bucket=Bucket.WEEK
        ),
        "year by month, UTC": KpiQuery(tenant, "UTC", *year, bucket=Bucket.MONTH),
        "year by day, UTC": KpiQuery(tenant, "UTC", *year, bucket=Bucket.DAY),
        "year, UTC": KpiQuery(tenant, "UTC", *year),
    }


async def run_report(conn: asyncpg.Connection, report: str, q: KpiQuery) -> None:
    if report == "top-contributors":
        await kpis.top_contributors(conn, q, by_team=False, order="engagement", limit=10)
    else:
        use_case = {
            "reach": kpis.reach,
            "engagement": kpis.engagement_per_network,
            "traffic": kpis.traffic,
            "sentiment": kpis.sentiment,
            "hashtags": kpis.hashtag_mentions,
            "adoption": kpis.adoption,
            "share-rate": kpis.share_rate,
        }[report]
        await use_case(conn, q)


async def kpi_reports(
    args: argparse.Namespace, pool: asyncpg.Pool, tenant: str
) -> list[tuple[str, str, float, float]]:
    """(report, shape, median ms, max ms) of `--report-runs` runs each, one snapshot per
    report as the API runs it."""
    wanted = REPORTS if args.kpi_reports == "all" else tuple(args.kpi_reports.split(","))
    out = []
    async with pool.acquire() as conn:
        for shape, q in report_shapes(tenant).items():
            for report in wanted:
                timings = []
                for _ in range(args.report_runs):
                    started = time.perf_counter()
                    async with snapshot(conn):
                        await run_report(conn, report, q)
                    timings.append((time.perf_counter() - started) * 1000)
                out.append((report, shape, percentile(timings, 50), max(timings)))
                print(f"  {report:17s} {shape:26s} {out[-1][2]:9.1f} ms", flush=True)
    return out


def _shaped(row: asyncpg.Record) -> dict[str, Any]:
    """A raw row as the use case shapes it, to compare both."""
    out: dict[str, Any] = {"bucket": row["bucket"].isoformat() if row["bucket"] else None}
    return out | {k: v if k == "contributor" else int(v) for k, v in row.items() if k != "bucket"}


def shape_of(q: KpiQuery) -> str:
    days = (q.date_to - q.date_from).days + 1 if q.date_to and q.date_from else 0
    span = "month" if days < 32 else "quarter" if days < 100 else "year"
    filtered = " +team" if q.team else " +network" if q.network else ""
    return f"{span}, bucket={q.bucket.value}{filtered}"


async def _kept(conn: asyncpg.Connection, args: argparse.Namespace) -> bool:
    """Whether --kpi-schema holds a complete data set of the requested sizes."""
    table = await conn.fetchval("SELECT to_regclass($1)", f"{args.kpi_schema}.bench_kpi_datasets")
    if table is None:
        return False
    return bool(
        await conn.fetchval(
            f'SELECT count(*) FROM "{args.kpi_schema}".bench_kpi_datasets '
            "WHERE engagements = $1 AND shares = $2",
            args.kpi_engagements,
            args.kpi_shares,
        )
    )


# --- main --------------------------------------------------------------------------


async def main(args: argparse.Namespace) -> None:
    run = secrets.token_hex(4)
    # The throwaway schema only when something runs in it: a KPI-only run on a kept
    # schema (--clicks 0 --kpi-schema) creates nothing else in the database.
    schema = None if not args.clicks and args.kpi_schema else f"bench_metrics_{run}"
    if schema:
        conn = await asyncpg.connect(args.dsn)
        try:
            await apply_migrations(conn, schema, [EVENTS_MIGRATIONS, MIGRATIONS])
        finally:
            await conn.close()
    # A connection per consumer, the flusher, the fold, the progress polls, and spare
    # (backends of --processes replicas share the pool's application name, so their CPU
    # counts with the pool's).
    size = args.consumers + 5
    pool = await create_pool(args.dsn, schema, min_size=2, max_size=size) if schema else None
    topic = None
    try:
        if args.clicks:
            assert pool is not None
            result = await ingestion(args, pool, run)
            topic = result["topic"]
            print(
                f"ingestion: {result['clicks']} clicks judged + aggregated + flushed in "
                f"{result['to_events_s']:.2f}s = {result['to_events_rate']:,.0f} engagements/s "
                f"(target >= 10,000), {args.processes} process(es) x {args.consumers} "
                f"consumer(s), {args.partitions} partitions"
                f"{' [--no-read-models: not the service]' if args.no_read_models else ''}\n"
                f"  contributor rankings folded too (they lag by up to the fold interval): "
                f"{result['seconds']:.2f}s = {result['rate']:,.0f}/s\n"
                f"  clicks {result['workload']}\n"
                f"  verdicts {result['verdicts']}; valid counted on shares "
                f"{result['counted_valid']}; engagement.updated events in outbox "
                f"{result['events']}; producing took {result['produce_s']:.1f}s (not counted)\n"
                f"  CPU per click: the consuming process(es) (runners, handler, flusher, fold) "
                f"{result['cpu_us']:.0f} us, PostgreSQL backends of its pool "
                f"{result['server_cpu_us']:.0f} us (both until the rankings were folded)"
            )
        if args.kpi_engagements:
            kpi_pool = pool
            if args.kpi_schema:
                # A kept schema: migrated like the throwaway one, never dropped here.
                conn = await asyncpg.connect(args.dsn)
                try:
                    if not await _kept(conn, args):
                        # Nothing of these sizes (or a load cut short): start clean.
                        await conn.execute(f'DROP SCHEMA IF EXISTS "{args.kpi_schema}" CASCADE')
                    # Pending migrations of a reused data set (backfills included), timed.
                    started = time.perf_counter()
                    applied = await apply_migrations(
                        conn, args.kpi_schema, [EVENTS_MIGRATIONS, MIGRATIONS]
                    )
                    if applied:
                        print(
                            f"applied {applied} pending migration(s) to {args.kpi_schema} in "
                            f"{time.perf_counter() - started:.1f}s"
                        )
                finally:
                    await conn.close()
                kpi_pool = await create_pool(args.dsn, args.kpi_schema, min_size=2, max_size=6)
            assert kpi_pool is not None
            try:
                with collector_paused():  # this process's own pauses are not query time
                    kpi = await kpi_latency(args, kpi_pool, run)
            finally:
                if kpi_pool is not pool:
                    await kpi_pool.close()
            made = (
                f"reused from schema {args.kpi_schema}, generated {kpi['reused']:%Y-%m-%d %H:%M} "
                f"UTC in {kpi['load_s']:.0f}s"
                if kpi["reused"]
                else f"generated in {kpi['load_s']:.0f}s"
            )
            print(
                f"top contributors on {kpi['engagements']:,} engagements / {kpi['shares']:,} "
                f"shares ({made}): {kpi['queries']} queries (target p99 <= 100 ms)"
            )
            for variant, (p50, p99, worst) in kpi["stats"].items():
                print(f"  {variant:8s} p50 {p50:7.1f} ms  p99 {p99:7.1f} ms  max {worst:7.1f} ms")
            for (variant, shape), (n, p50, p99) in sorted(kpi["by_shape"].items()):
                print(f"  {variant:8s} {shape:30s} n={n:3d}  p50 {p50:7.1f} ms  p99 {p99:7.1f} ms")
            if args.kpi_reports:
                data_schema = args.kpi_schema or schema
                assert data_schema is not None
                reopened = await create_pool(args.dsn, data_schema, min_size=1, max_size=2)
                try:
                    print(f"every report, median of {args.report_runs} runs (no target):")
                    with collector_paused():
                        await kpi_reports(args, reopened, kpi["tenant"])
                finally:
                    await reopened.close()
    finally:
        if pool is not None:
            await pool.close()
        if schema and not args.keep:
            conn = await asyncpg.connect(args.dsn)
            try:
                await conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
            finally:
                await conn.close()
            if topic:
                admin = AIOKafkaAdminClient(bootstrap_servers=args.bootstrap)
                await admin.start()
                with contextlib.suppress(Exception):
                    await admin.delete_topics([topic, topic + ".dlq"])
                await admin.close()


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clicks", type=int, default=200_000)
    parser.add_argument("--shares", type=int, default=20_000)
    parser.add_argument("--batch-size", type=int, default=2000)
    # The platform's count for the raw click topic (CHORUS_KAFKA_RAW_PARTITIONS).
    parser.add_argument("--partitions", type=int, default=MetricsSettings().kafka_raw_partitions)
    parser.add_argument(
        "--consumers",
        type=int,
        default=MetricsSettings().ingest_consumer_instances,
        help="ingest consumers (one group) in this process; default: the service's",
    )
    parser.add_argument(
        "--processes",
        type=int,
        default=1,
        help="processes running --consumers ingest consumers each (one group), as that many "
        "replicas of the service would; the first also runs the flusher and the fold",
    )
    parser.add_argument(
        "--click-age-days",
        type=float,
        help="clicks land on shares whose age from the newest share is exponential with this "
        "mean (days); default: uniformly on all shares, posted over a year",
    )
    parser.add_argument(
        "--no-read-models",
        action="store_true",
        help="ingestion: after seeding, drop the run schema's triggers that maintain the KPI "
        "read models (share and engagement rollups, contributor deltas): what ingestion "
        "proper costs by itself; not the service",
    )
    parser.add_argument("--kpi-engagements", type=int, default=2_000_000)
    parser.add_argument("--kpi-shares", type=int, default=200_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument(
        "--compare-raw",
        action="store_true",
        help="also time the previous raw-shares query (JIT on), interleaved, and check "
        "both return the same rows",
    )
    parser.add_argument(
        "--kpi-reports",
        help="after the latency mix, time these reports (comma list of "
        f"{','.join(REPORTS)}, or 'all') over dashboard shapes (day buckets, a year)",
    )
    parser.add_argument("--report-runs", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the schema and topic")
    parser.add_argument(
        "--kpi-schema",
        help="generate the KPI data set in this schema and keep it; later runs with the same "
        "--kpi-engagements/--kpi-shares reuse it (raw rows counted again) instead of "
        "generating. Drop it by hand: DROP SCHEMA <name> CASCADE",
    )
    parser.add_argument(
        "--bootstrap", default=os.environ.get("CHORUS_KAFKA_BOOTSTRAP", DEFAULT_KAFKA_BOOTSTRAP)
    )
    parser.add_argument(
        "--dsn",
        default=os.environ.get("CHORUS_DATABASE_URL", DEFAULT_DATABASE_URL),
    )
    return parser.parse_args(argv)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    # The collector thresholds every service process runs with (chorus_platform.app).
    tune_gc()
    logging.getLogger("aiokafka").setLevel(logging.WARNING)
    logging.getLogger("chorus_events").setLevel(logging.WARNING)
    asyncio.run(main(parse()))
