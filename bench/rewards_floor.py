"""Rewards consumer: the machine CPU per event the mandated design needs at the least.

Times, in isolation on the local stack, only the work issue #7's design cannot drop,
each done the cheapest way this code base knows, and adds them up:

1. Kafka: the broker serving the fetches (its JVM's CPU) and aiokafka parsing the
   records in a plain consumer that only counts (the raw rate of `rewards_bench.py`);
2. envelope decoding (`chorus_events.envelope.decode`: headers, JSON, pydantic);
3. PostgreSQL: per batch of B events one transaction with the runner's tracking rows
   (`_TRACK_NEW`, one row per event) and one ledger row per event with its three
   indexes (packed JSON, as `repository.ledger.write_batch` sends it); then the same
   plus each advocate's account row (the balance), an upsert; PostgreSQL's CPU (the
   backend's, from /proc) and this process's (asyncpg);
4. Redis: ~18 sorted-set members per event (the bench's fan-out: tenant / team /
   hashtags x all / month / week / day x points, engagement and reach), one ZADD per
   board key per batch on the writer's pipelined line (`RedisLine.execute_many`);
   redis-server's CPU and this process's (RESP encoding, replies).

Everything else the consumer does (valuing events against rules and caps, the
standings fold, badges, share progress, locks, change notices) comes on top.

    .venv/bin/python bench/rewards_floor.py [--events 20000] [--batch 1000]

Source the stack env first (`set -a; . .local/stack.env; set +a`); the Kafka broker
and PostgreSQL are found from the worktree's `.local`, Redis from `$CHORUS_REDIS_URL`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import orjson
from aiokafka.admin import AIOKafkaAdminClient
from chorus_devstack.pg_admin import create_database, drop_database, with_database
from chorus_events.bus import ensure_topics
from chorus_events.consumer import _TRACK_NEW
from chorus_events.envelope import decode
from chorus_platform.migrate import apply_migrations
from chorus_rewards import resp
from chorus_rewards.app import build_spec
from chorus_rewards.redis_line import RedisLine
from chorus_rewards.settings import RewardsSettings
from redis.asyncio import Redis

sys.path.insert(0, str(Path(__file__).resolve().parent))
from rewards_bench import (
    Workload,
    consume_raw,
    send_all,
)
from stack_cpu import _redis_pid, _stat

_TICK = os.sysconf("SC_CLK_TCK")
_ROOT = Path(__file__).resolve().parent.parent


def _cpu(pid: int) -> float:
    fields = _stat(pid)
    return (int(fields[11]) + int(fields[12])) / _TICK


def _broker_pid() -> int:
    found = subprocess.run(
        ["pgrep", "-f", f"kafka.Kafka {_ROOT}/.local/kafka"], capture_output=True, text=True
    )
    return int(found.stdout.split()[0])


async def _measured(pids: list[int], work: Callable[[], Awaitable[object]]) -> list[float]:
    """CPU seconds of this process and of each of `pids` while `work` runs."""
    before = [time.process_time(), *map(_cpu, pids)]
    await work()
    after = [time.process_time(), *map(_cpu, pids)]
    return [b - a for a, b in zip(before, after, strict=True)]


async def kafka_and_decode(args: argparse.Namespace, bootstrap: str) -> dict[str, float]:
    prefix = f"floor{uuid.uuid4().hex[:8]}."
    workload = Workload(prefix, [f"floor-{i}" for i in range(10)], 20_000)
    now = datetime.now(UTC)
    events = [workload.next_event(now - timedelta(seconds=i)) for i in range(args.events)]
    records = [workload.record(e) for e in events]
    topics = sorted({r.topic for r in records})
    await ensure_topics(bootstrap, topics, 3)
    await send_all(bootstrap, records)
    broker = _broker_pid()
    try:
        client, jvm = await _measured([broker], lambda: consume_raw(bootstrap, topics, args.events))
    finally:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        await admin.start()
        try:
            await admin.delete_topics(topics)
        finally:
            await admin.close()
    types = {workload.share_spec.ce_type: workload.share_spec}
    types[workload.engagement_spec.ce_type] = workload.engagement_spec
    started = time.process_time()
    for r in records:
        decode(r.topic, r.key, r.value, r.headers, types)
    decoded = time.process_time() - started
    n = args.events
    return {
        "broker": jvm / n * 1e6,
        "aiokafka": client / n * 1e6,
        "decode": decoded / n * 1e6,
    }


def _ledger_rows(batch: int, start: int) -> list[list[object]]:
    at = datetime.now(UTC).isoformat()
    rows: list[list[object]] = []
    for i in range(start, start + batch):
        adv = f"adv-{random.randrange(20_000):07d}"
        rows.append(
            [
                f"floor-{i % 10}", adv, "engagement", 7, 3, 120,
                {"clicks": {"points": 5, "uncapped": 5}, "reactions": {"points": 2}},
                1, f"ev-{i}", f"s-{i % 5000}", None, "{team-1}", "{campaign1}", at,
            ]
        )  # fmt: skip
    return rows


_LEDGER = (
    "INSERT INTO ledger (tenant_id, advocate_id, kind, points, engagement, reach, breakdown, "
    "rule_version, event_id, share_id, redemption_id, team_ids, hashtags, occurred_at) "
    "SELECT r->>0, r->>1, r->>2, (r->>3)::int, (r->>4)::int, (r->>5)::bigint, r->6, "
    "(r->>7)::int, r->>8, r->>9, (r->>10)::bigint, (r->>11)::text[], (r->>12)::text[], "
    "(r->>13)::timestamptz "
    "FROM jsonb_array_elements($1::text::jsonb) AS r"
)
_ACCOUNTS = (
    "INSERT INTO accounts (tenant_id, advocate_id, balance, earned) "
    "SELECT r->>0, r->>1, (r->>3)::bigint, (r->>3)::bigint "
    "FROM jsonb_array_elements($1::text::jsonb) AS r "
    "ON CONFLICT (tenant_id, advocate_id) DO UPDATE "
    "SET balance = accounts.balance + excluded.balance, earned = accounts.earned + excluded.earned"
)


async def postgres(args: argparse.Namespace, dsn: str) -> dict[str, float]:
    database = f"floor_{uuid.uuid4().hex[:8]}"
    await create_database(dsn, database)
    try:
        conn = await asyncpg.connect(with_database(dsn, database))
        try:
            settings = RewardsSettings(CHORUS_DATABASE_URL=with_database(dsn, database))
            await apply_migrations(conn, "rewards", list(build_spec(settings).migrations))
            await conn.execute("SET search_path TO rewards, public")
            backend = await conn.fetchval("SELECT pg_backend_pid()")
            found: dict[str, float] = {}
            for label, accounts in (("tracking + ledger", False), ("+ account upsert", True)):
                offset = 0 if not accounts else args.events

                async def work(offset: int = offset, accounts: bool = accounts) -> None:
                    for start in range(offset, offset + args.events, args.batch):
                        rows = _ledger_rows(args.batch, start)
                        await _batch(conn, rows, accounts)

                client, pg = await _measured([backend], work)
                found[f"pg {label}"] = pg / args.events * 1e6
                found[f"asyncpg {label}"] = client / args.events * 1e6
            return found
        finally:
            await conn.close()
    finally:
        await drop_database(dsn, database)


async def _batch(conn: asyncpg.Connection, rows: list[list[object]], accounts: bool) -> None:
    ids = [str(r[8]) for r in rows]
    async with conn.transaction():
        await conn.execute(
            _TRACK_NEW,
            "floor",
            "\x1f".join(ids),
            ",".join(["t"] * len(ids)),
            ",".join(["0"] * len(ids)),
            ",".join(map(str, range(len(ids)))),
        )
        await conn.execute(_LEDGER, orjson.dumps(rows).decode())
        if accounts:
            # Sorted, one row per advocate: as the consumer locks them.
            by_advocate = {(r[0], r[1]): r for r in rows}
            await conn.execute(
                _ACCOUNTS, orjson.dumps([by_advocate[k] for k in sorted(by_advocate)]).decode()
            )


async def redis(args: argparse.Namespace, url: str) -> dict[str, float]:
    client = Redis.from_url(url)
    line = RedisLine.for_client(client)
    assert line is not None, "a plain redis:// URL is needed"
    tag = uuid.uuid4().hex[:8]
    periods = ("all", "m:2026-11", "w:2026-48", "d:2026-11-27")
    rng = random.Random(7)
    server = _redis_pid(url)

    def fan_out(n: int) -> list[tuple[str, str]]:
        """~18 (board key, member) pairs per event, as the bench's events touch."""
        pairs = []
        for _ in range(n):
            a = rng.randrange(20_000)
            tenant, member = f"{{floor-{tag}-{a % 10}}}", f"adv-{a:07d}"
            scopes = ["tenant", f"team:team-{a % 10}"] + [f"tag:c{c}" for c in range(a % 3)]
            for scope in scopes:
                for period in periods:
                    pairs.append((f"chorus:rewards:{tenant}:lb:points:{scope}:{period}", member))
            for period in periods:  # engagement and reach: tenant boards (contests)
                for metric in ("engagement", "reach"):
                    pairs.append((f"chorus:rewards:{tenant}:lb:{metric}:tenant:{period}", member))
        return pairs

    # The batches' boards are made up front: only encoding, sending and replies are timed.
    batches: list[dict[str, dict[str, int]]] = []
    for _ in range(0, args.events, args.batch):
        boards: dict[str, dict[str, int]] = {}
        for key, member in fan_out(args.batch):
            boards.setdefault(key, {})[member] = rng.randrange(1 << 40)
        batches.append(boards)

    async def work() -> None:
        for boards in batches:
            bulks: dict[str, bytes] = {}
            await line.execute_many([resp.zadd(k, m, bulks) for k, m in boards.items()])

    pairs_per_event = len(fan_out(2000)) / 2000
    try:
        own, srv = await _measured([server], work)
    finally:
        keys = [k async for k in client.scan_iter(match=f"chorus:rewards:{{floor-{tag}-*")]
        for i in range(0, len(keys), 500):
            await client.delete(*keys[i : i + 500])
        await line.close()
        await client.aclose()
    return {
        "members per event": pairs_per_event,
        "redis-server": srv / args.events * 1e6,
        "redis client": own / args.events * 1e6,
    }


async def run(args: argparse.Namespace) -> int:
    bootstrap = os.environ["CHORUS_KAFKA_BOOTSTRAP"]
    found = await kafka_and_decode(args, bootstrap)
    found |= await postgres(args, os.environ["CHORUS_DATABASE_URL"])
    found |= await redis(args, os.environ["CHORUS_REDIS_URL"])
    print(f"\nRewards consumer floor: {args.events:,} events, batches of {args.batch:,}, "
          f"load average {os.getloadavg()[0]:.2f}")  # fmt: skip
    for name, value in found.items():
        print(f"  {name:32s} {value:8.1f}" + ("" if name == "members per event" else " us/event"))
    minimum = sum(
        found[k]
        for k in ("broker", "aiokafka", "decode", "pg tracking + ledger",
                  "asyncpg tracking + ledger", "redis-server", "redis client")
    )  # fmt: skip
    print(f"  {'sum (without accounts)':32s} {minimum:8.1f} us/event -> at most "
          f"{2e6 / minimum:,.0f} events/s on 2 fully busy cores")  # fmt: skip
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=1000)
    return asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
