"""The platform benchmark: the whole pipeline, redirect to leaderboard, in one run.

    .venv/bin/python bench/platform_bench.py            # or: make bench

On the local stack (started if needed), in a throwaway database, with the five
services as real processes at their production cadences (a `Fleet` with its own
consumer groups). Everything the clients do goes through the gateway.

1. Set-up (not timed): a tenant, advocates, approved content and shares, made with
   the program simulator.
2. Sustained throughput: N clicks from distinct visitors as fast as the redirect
   takes them; the clock stops when the tenant's engagement leaderboard (read
   through the gateway) sums to N.
3. Freshness at a steady background rate: a probe advocate's link is clicked once at
   a time while other links take R clicks/s; each probe's latency is click sent ->
   the probe's value on the leaderboard (through the gateway) shows it. The
   background redirects' latencies give the redirect p99 under that load.
4. Leaderboard reads through the gateway (top 10), concurrent, for S seconds.
5. Resident memory of each service and of Kafka; the raw aiokafka consume rate of
   small messages on the same broker, and the pipeline's ratio to it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).parent))

from _common import format_table, percentile, process_cpu_seconds
from _fleet import bench_fleet
from chorus_devstack.fleet import SERVICES, Fleet
from chorus_devstack.stack import LocalStack
from chorus_simulator.gateway import Gateway, Headers
from chorus_simulator.plan import BROWSERS, human_address, make_plan
from chorus_simulator.progress import Progress
from chorus_simulator.run import ProgramRun
from chorus_simulator.scale import Scale
from chorus_simulator.tenant import bootstrap_tenant
from chorus_simulator.verify import board
from sharing_redirect import _read_response


@dataclass
class Figures:
    rows: list[tuple[str, str]] = field(default_factory=list)

    def add(self, name: str, value: str) -> None:
        self.rows.append((name, value))
        print(f"  {name}: {value}", flush=True)


def rss_mib(pid: int | None) -> float | None:
    if pid is None:
        return None
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def processes(fleet: Fleet) -> dict[str, list[int]]:
    """Every process the pipeline runs on, by role (engines found by command name)."""
    roles: dict[str, list[int]] = {s: pids for s in SERVICES if (pids := fleet.pids(s))}
    roles["load generator (this process)"] = [os.getpid()]
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            comm = (entry / "comm").read_text().strip()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if comm.startswith("postgres"):
            roles.setdefault("postgres (all backends)", []).append(int(entry.name))
        elif comm.startswith("redis-server"):
            roles.setdefault("redis", []).append(int(entry.name))
        elif comm == "java" and b"kafka" in cmdline:
            roles.setdefault("kafka", []).append(int(entry.name))
    return roles


def cpu_snapshot(roles: dict[str, list[int]]) -> dict[str, float]:
    return {role: sum(process_cpu_seconds(p) or 0.0 for p in pids) for role, pids in roles.items()}


class Clicker:
    """Visitors' redirects over a pool of raw keep-alive HTTP/1.1 connections.

    httpx costs the load generator ~5 ms of CPU per request here, more than the
    whole pipeline's share of it: on two cores the generator must be lean, or it
    measures itself."""

    def __init__(self, base_url: str, connections: int) -> None:
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.pool: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = (
            asyncio.Queue()
        )
        self.connections = connections

    async def open(self) -> None:
        for _ in range(self.connections):
            self.pool.put_nowait(await asyncio.open_connection(self.host, self.port))

    async def close(self) -> None:
        while not self.pool.empty():
            _, writer = self.pool.get_nowait()
            writer.close()

    async def click(self, code: str, address: str, agent: str) -> int:
        request = (
            f"GET /l/{code} HTTP/1.1\r\nHost: {self.host}\r\nUser-Agent: {agent}\r\n"
            f"X-Forwarded-For: {address}\r\n\r\n".encode()
        )
        reader, writer = await self.pool.get()
        try:
            for attempt in range(2):
                try:
                    writer.write(request)
                    return await _read_response(reader)
                except (OSError, asyncio.IncompleteReadError, ConnectionError):
                    # The server closes keep-alive connections idle for 5 s: reconnect
                    # once (the closed connection had not taken this request).
                    writer.close()
                    reader, writer = await asyncio.open_connection(self.host, self.port)
                    if attempt:
                        raise
            raise AssertionError("unreachable")
        finally:
            self.pool.put_nowait((reader, writer))


class Visitors:
    """Distinct visitors (each its own /24 network, so no fraud rule objects)."""

    def __init__(self, start: int = 1_000_000) -> None:
        self.n = start

    def next(self) -> tuple[str, str]:
        self.n += 1
        return human_address(self.n), BROWSERS[self.n % len(BROWSERS)]


async def engagement_total(gw: Gateway, admin: Headers) -> int:
    return sum((await board(gw, admin, "engagement", "tenant", "", "all")).values())


async def until_total(gw: Gateway, admin: Headers, total: int, deadline: float) -> float:
    """Poll the leaderboard until it sums to `total`; the monotonic time it did."""
    end = time.monotonic() + deadline
    while True:
        if await engagement_total(gw, admin) >= total:
            return time.monotonic()
        if time.monotonic() > end:
            raise TimeoutError(f"the leaderboard did not reach {total} in {deadline:.0f}s")
        await asyncio.sleep(0.05)


async def throughput(
    clicker: Clicker,
    gw: Gateway,
    admin: Headers,
    codes: list[str],
    n: int,
    concurrency: int,
    visitors: Visitors,
    figures: Figures,
) -> float:
    base = await engagement_total(gw, admin)
    latencies: list[float] = []
    gate = asyncio.Semaphore(concurrency)
    rng = random.Random(3)

    async def click() -> None:
        address, agent = visitors.next()
        code = rng.choice(codes)
        async with gate:
            started = time.monotonic()
            status = await clicker.click(code, address, agent)
            latencies.append(time.monotonic() - started)
        if status != 302:
            raise RuntimeError(f"redirect answered {status}")

    started = time.monotonic()
    await asyncio.gather(*(click() for _ in range(n)))
    redirected = time.monotonic()
    visible = await until_total(gw, admin, base + n, deadline=600)
    rate = n / (visible - started)
    figures.add(
        "redirects (as fast as taken)",
        f"{n / (redirected - started):,.0f}/s, "
        f"p50 {percentile(latencies, 50) * 1000:.1f} ms, "
        f"p99 {percentile(latencies, 99) * 1000:.1f} ms",
    )
    figures.add(
        "end-to-end throughput",
        f"{n:,} clicks in {visible - started:.1f} s = "
        f"{rate:,.0f} clicks/s (redirect -> leaderboard)",
    )
    return rate


async def freshness(
    clicker: Clicker,
    gw: Gateway,
    admin: Headers,
    probe: tuple[str, str],
    codes: list[str],
    rate: float,
    seconds: float,
    visitors: Visitors,
    figures: Figures,
) -> None:
    probe_code, probe_advocate = probe
    background: list[float] = []
    stop = asyncio.Event()
    rng = random.Random(5)
    inflight: set[asyncio.Task[None]] = set()

    async def one_background() -> None:
        address, agent = visitors.next()
        started = time.monotonic()
        status = await clicker.click(rng.choice(codes), address, agent)
        if status == 302:
            background.append(time.monotonic() - started)

    async def load() -> None:
        interval = 1 / rate
        next_at = time.monotonic()
        while not stop.is_set():
            task = asyncio.create_task(one_background())
            inflight.add(task)
            task.add_done_callback(inflight.discard)
            next_at += interval
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))

    async def probe_value() -> int:
        standing = await gw.call(
            "GET",
            f"/v1/rewards/leaderboards/engagement/advocates/{probe_advocate}",
            headers=admin,
            params={"window": 0},
        )
        return int(standing.get("value") or 0)

    loader = asyncio.create_task(load())
    samples: list[float] = []
    end = time.monotonic() + seconds
    value = await probe_value()
    while time.monotonic() < end:
        address, agent = visitors.next()
        sent = time.monotonic()
        status = await clicker.click(probe_code, address, agent)
        if status != 302:
            raise RuntimeError(f"probe redirect answered {status}")
        value += 1
        while await probe_value() < value:
            if time.monotonic() - sent > 120:
                raise TimeoutError("a probe click never reached the leaderboard")
            await asyncio.sleep(0.01)
        samples.append(time.monotonic() - sent)
    stop.set()
    await loader
    await asyncio.gather(*inflight)
    figures.add(
        f"freshness at {rate:,.0f} clicks/s",
        f"{len(samples)} probes, "
        f"p50 {percentile(samples, 50) * 1000:.0f} ms, "
        f"p99 {percentile(samples, 99) * 1000:.0f} ms (click -> leaderboard via gateway)",
    )
    figures.add(
        f"redirect under {rate:,.0f}/s",
        f"{len(background):,} redirects, "
        f"p50 {percentile(background, 50) * 1000:.1f} ms, "
        f"p99 {percentile(background, 99) * 1000:.1f} ms",
    )


async def reads(
    gw: Gateway, who: Headers, seconds: float, concurrency: int, figures: Figures
) -> None:
    latencies: list[float] = []
    end = time.monotonic() + seconds

    async def reader() -> None:
        while time.monotonic() < end:
            started = time.monotonic()
            await gw.call(
                "GET", "/v1/rewards/leaderboards/engagement", headers=who, params={"limit": 10}
            )
            latencies.append(time.monotonic() - started)

    started = time.monotonic()
    await asyncio.gather(*(reader() for _ in range(concurrency)))
    took = time.monotonic() - started
    figures.add(
        "leaderboard reads via gateway",
        f"{len(latencies) / took:,.0f} req/s, "
        f"p50 {percentile(latencies, 50) * 1000:.1f} ms, "
        f"p99 {percentile(latencies, 99) * 1000:.1f} ms ({concurrency} clients)",
    )


async def raw_consume_rate(bootstrap: str, messages: int) -> float:
    """aiokafka alone: small messages produced first, then consumed as fast as it can."""
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    topic = f"bench.platform.raw.{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=3, replication_factor=1)])
        producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap, linger_ms=20, max_batch_size=256 * 1024
        )
        await producer.start()
        try:
            value = b'{"tenant_id":"t-bench","share_id":"s-1","n":0000000}'
            for i in range(messages):
                await producer.send(topic, value, key=str(i % 64).encode())
            await producer.flush()
        finally:
            await producer.stop()
        consumer = AIOKafkaConsumer(
            topic,
            bootstrap_servers=bootstrap,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            group_id=None,
        )
        await consumer.start()
        try:
            count = 0
            started = time.monotonic()
            while count < messages:
                batch = await consumer.getmany(timeout_ms=1000, max_records=10_000)
                count += sum(len(m) for m in batch.values())
            return messages / (time.monotonic() - started)
        finally:
            await consumer.stop()
    finally:
        await admin.delete_topics([topic])
        await admin.close()


async def measure(fleet: Fleet, gw: Gateway, args: argparse.Namespace) -> None:
    figures = Figures()
    tenant = bootstrap_tenant("Bench Co", env=fleet.env_for("gateway"))
    scale = Scale(
        teams=args.teams,
        advocates=args.advocates,
        items=args.items,
        shares=args.shares,
        clicks=0,
        burst=0,
        concurrency=args.concurrency,
    )
    program = ProgramRun(gw, tenant, make_plan(scale, seed=1), Progress())
    program.admin = await gw.login(tenant.tenant_id, tenant.admin_email, tenant.admin_password)
    await program.configure_program()
    await program.enrol_people()
    await program.publish_content()
    await program.share()
    admin = program.admin
    shares = program.record.shares
    probe = shares[0]
    codes = [s.code for s in shares if s.advocate_id != probe.advocate_id]
    visitors = Visitors()
    print(
        f"set up: {len(program.advocate_ids)} advocates, {len(shares)} shares; "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    roles = processes(fleet)
    before = cpu_snapshot(roles)
    clicker = Clicker(fleet.gateway, args.concurrency)
    await clicker.open()
    rate = await throughput(
        clicker, gw, admin, codes, args.clicks, args.concurrency, visitors, figures
    )
    after = cpu_snapshot(roles)
    spent = {role: after[role] - before[role] for role in roles}
    total = sum(spent.values())
    for role, seconds in sorted(spent.items(), key=lambda kv: -kv[1]):
        figures.add(
            f"CPU per click: {role}",
            f"{seconds / args.clicks * 1e6:,.0f} us ({seconds / total:.0%} of the pipeline's CPU)",
        )
    figures.add("CPU per click: all", f"{total / args.clicks * 1e6:,.0f} us")
    await freshness(
        clicker,
        gw,
        admin,
        (probe.code, probe.advocate_id),
        codes,
        args.rate,
        args.seconds,
        visitors,
        figures,
    )
    await clicker.close()
    advocate = program.people["a0"]
    await reads(gw, advocate, args.read_seconds, args.read_clients, figures)
    for service in SERVICES:
        rss = sum(rss_mib(pid) or 0 for pid in fleet.pids(service))
        figures.add(f"memory {service}", f"{rss:,.0f} MiB RSS")
    kafka = next((c for c in LocalStack().status() if c.name == "kafka"), None)
    if kafka is not None and kafka.pid:
        figures.add("memory kafka", f"{rss_mib(kafka.pid) or 0:,.0f} MiB RSS")
    raw = await raw_consume_rate(fleet.engines.kafka_bootstrap, args.raw_messages)
    figures.add("raw aiokafka consume", f"{raw:,.0f} messages/s ({args.raw_messages:,} small)")
    figures.add("pipeline / raw", f"{rate / raw:.3%}")
    figures.add("load average (1 min) at the end", f"{os.getloadavg()[0]:.1f}")
    print()
    print(format_table(["measure", "figure"], figures.rows))


async def main(args: argparse.Namespace) -> None:
    async with bench_fleet("platform", args.profile) as fleet:
        gw = Gateway(fleet.gateway, concurrency=args.concurrency)
        try:
            await measure(fleet, gw, args)
        finally:
            await gw.close()
    for service in args.profile:
        print_profile(service, fleet.profile_path(service))


def print_profile(service: str, path: Path, top: int = 30) -> None:
    """Where a service's CPU went during the run (cProfile, by own time)."""
    import pstats

    if not path.exists():
        print(f"no profile for {service} (it did not stop cleanly)")
        return
    print(f"\n--- {service}: top {top} functions by own time ({path}) ---")
    stats = pstats.Stats(str(path))
    stats.sort_stats("tottime").print_stats(top)


def cli() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--teams", type=int, default=10)
    parser.add_argument("--advocates", type=int, default=200)
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--shares", type=int, default=2_000)
    parser.add_argument("--clicks", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rate", type=float, default=200.0, help="background clicks/s")
    parser.add_argument("--seconds", type=float, default=30.0, help="freshness phase length")
    parser.add_argument("--read-seconds", type=float, default=10.0)
    parser.add_argument("--read-clients", type=int, default=16)
    parser.add_argument("--raw-messages", type=int, default=200_000)
    parser.add_argument(
        "--profile",
        action="append",
        default=[],
        choices=SERVICES,
        help="run this service under cProfile and print where its time went",
    )
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(cli()))
