"""Gateway overhead: one leaderboard read, directly against rewards and through the gateway.

One run, on the local stack's engines, in a throwaway database `chorus_bench_<random>`
(dropped at the end) and a throwaway tenant:

1. start the rewards service and the gateway as uvicorn processes (one worker each,
   loopback, free ports; rewards' consumers off: only its read path is measured);
   bootstrap a tenant with an API key (scope `rewards:read`), lift the tenant's rate
   limit out of the way, and write a `--advocates`-member all-time points board into
   Redis the way the rewards service does;
2. drive `GET /v1/rewards/leaderboards/points?limit=10` with an asyncio load generator
   over `--connections` keep-alive HTTP/1.1 connections (raw sockets, each sending its
   next request when the previous response arrived) for `--seconds`, after `--warmup`
   seconds of unmeasured load: directly at rewards (with an internal identity token, as
   the gateway would forward) and through the gateway (with the API key: key lookup,
   route policy, Redis rate limit, identity minting, pooled forwarding), alternating
   `--rounds` times so drift on the shared cores hits both alike;
3. report req/s and p50/p99 latency of each, and the gateway's throughput as a share
   of direct (target ≥ 70 %), plus each process's CPU seconds per 1,000 requests.

The load generator, both services, PostgreSQL and Redis share the same cores, so the
figures are conservative and the ratio is what to read.

    .venv/bin/python bench/gateway_overhead.py [--connections 16] [--seconds 10]
        [--warmup 2] [--rounds 2] [--advocates 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from _common import format_table, percentile, process_cpu_seconds
from chorus_devstack.apps import identity_headers
from chorus_devstack.fleet import free_port
from chorus_devstack.pg_admin import create_database, drop_database, with_database
from chorus_devstack.probes import run_sync
from chorus_devstack.settings import (
    DEFAULT_DATABASE_URL,
    DEFAULT_KAFKA_BOOTSTRAP,
    DEFAULT_REDIS_URL,
)
from chorus_platform.identity import PrincipalKind
from chorus_rewards.boards import Metric, board_key
from chorus_rewards.periods import Period
from chorus_rewards.scoring import encode_score
from redis import Redis

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
PATH = "/v1/rewards/leaderboards/points?limit=10"




@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    url: str

    def cpu(self) -> float:
        return process_cpu_seconds(self.popen.pid) or 0.0


def wait_ready(url: str, popen: subprocess.Popen[bytes], deadline: float = 90.0) -> None:
    started = time.monotonic()
    while time.monotonic() - started < deadline:
        if popen.poll() is not None:
            raise RuntimeError(f"{url} exited with {popen.returncode}")
        with (
            contextlib.suppress(OSError),
            urllib.request.urlopen(f"{url}/readyz", timeout=2) as answer,  # noqa: S310
        ):
            if answer.status == 200:
                return
        time.sleep(0.3)
    raise TimeoutError(f"{url} not ready after {deadline:.0f}s")


@contextlib.contextmanager
def service(name: str, module: str, env: dict[str, str], log_dir: Path) -> Iterator[Process]:
    port = free_port()
    log = (log_dir / f"{name}.log").open("wb")
    cmd = [PYTHON, "-m", "uvicorn", f"{module}:app", "--host", "127.0.0.1", "--port", str(port),
           "--no-access-log", "--log-level", "warning"]  # fmt: skip
    popen = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    process = Process(name, popen, f"http://127.0.0.1:{port}")
    try:
        wait_ready(process.url, popen)
        yield process
    finally:
        popen.send_signal(signal.SIGTERM)
        try:
            popen.wait(30)
        except subprocess.TimeoutExpired:
            popen.kill()
        log.close()


@dataclass
class Result:
    requests: int
    seconds: float
    latencies: list[float]
    errors: int


async def _connection(
    host: str, port: int, request: bytes, stop_at: float, record_from: float, out: Result
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while (now := time.perf_counter()) < stop_at:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            await reader.readexactly(length)
            done = time.perf_counter()
            if now >= record_from:
                out.requests += 1
                out.latencies.append(done - now)
                out.errors += status != 200
    finally:
        writer.close()


async def drive(url: str, headers: dict[str, str], connections: int, warmup: float,
                seconds: float) -> Result:  # fmt: skip
    host, port = url.removeprefix("http://").split(":")
    lines = [f"GET {PATH} HTTP/1.1", f"Host: {host}:{port}",
             *(f"{k}: {v}" for k, v in headers.items())]  # fmt: skip
    request = ("\r\n".join(lines) + "\r\n\r\n").encode()
    start = time.perf_counter()
    result = Result(0, seconds, [], 0)
    await asyncio.gather(*(
        _connection(host, int(port), request, start + warmup + seconds, start + warmup, result)
        for _ in range(connections)
    ))  # fmt: skip
    return result


def bootstrap(env: dict[str, str]) -> tuple[str, str]:
    done = subprocess.run(
        [PYTHON, "-m", "chorus_gateway", "bootstrap-tenant", "--name", "Bench Co",
         "--admin-email", "bench@example.com", "--api-key-scope", "rewards:read"],
        env=env, cwd=ROOT, capture_output=True, check=True,
    )  # fmt: skip
    out = json.loads(done.stdout)
    return str(out["tenant_id"]), str(out["api_key"])


def seed_board(redis_url: str, tenant_id: str, advocates: int) -> None:
    key = board_key(tenant_id, Metric.POINTS, "tenant", Period.ALL, None)
    now_ms = int(time.time() * 1000)
    scores = {
        f"adv-{i:06d}": encode_score((i * 7919) % 5000, now_ms, None) for i in range(advocates)
    }
    with Redis.from_url(redis_url) as redis:
        redis.delete(key)
        redis.zadd(key, scores)


async def lift_rate_limit(dsn: str, tenant_id: str) -> None:
    """The benchmark measures the gateway's work, not its refusals."""
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(
            "UPDATE gateway.tenants SET rate_limit_per_minute = 100000000, "
            "rate_limit_burst = 10000000 WHERE id = $1",
            tenant_id,
        )
    finally:
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--advocates", type=int, default=1000)
    args = parser.parse_args()

    admin_url = os.environ.get("CHORUS_DATABASE_URL", DEFAULT_DATABASE_URL)
    redis_url = os.environ.get("CHORUS_REDIS_URL", DEFAULT_REDIS_URL)
    database = f"chorus_bench_{secrets.token_hex(4)}"
    run_sync(lambda: create_database(admin_url, database))
    secret = secrets.token_urlsafe(32)
    env = {
        **os.environ,
        "CHORUS_DATABASE_URL": with_database(admin_url, database),
        "CHORUS_REDIS_URL": redis_url,
        "CHORUS_KAFKA_BOOTSTRAP": os.environ.get("CHORUS_KAFKA_BOOTSTRAP", DEFAULT_KAFKA_BOOTSTRAP),
        "CHORUS_INTERNAL_TOKEN_SECRET": secret,
        "CHORUS_LOG_LEVEL": "WARNING",
        "CHORUS_REWARDS_CONSUMERS_ENABLED": "false",
        "CHORUS_REWARDS_OUTBOX_RELAY_ENABLED": "false",
        "CHORUS_REWARDS_SCHEDULER_ENABLED": "false",
    }
    tenant_id = ""
    try:
        with tempfile.TemporaryDirectory() as tmp, \
                service("rewards", "chorus_rewards.app", env, Path(tmp)) as rewards:  # fmt: skip
            gateway_env = {**env, "CHORUS_GATEWAY_REWARDS_URL": rewards.url,
                           "CHORUS_GATEWAY_DEV_KEY_PATH": str(Path(tmp) / "key.pem")}  # fmt: skip
            tenant_id, api_key = bootstrap(gateway_env)
            seed_board(redis_url, tenant_id, args.advocates)
            asyncio.run(lift_rate_limit(env["CHORUS_DATABASE_URL"], tenant_id))
            with service("gateway", "chorus_gateway.app", gateway_env, Path(tmp)) as gateway:
                # What the gateway forwards for the key (the token lives 600 s: long enough).
                direct_headers = identity_headers(secret, tenant_id, "bench-key", (),
                                                  kind=PrincipalKind.API_KEY,
                                                  scopes=["rewards:read"])  # fmt: skip
                targets = {
                    "direct": (rewards.url, direct_headers),
                    "gateway": (gateway.url, {"X-API-Key": api_key}),
                }
                results: dict[str, list[Result]] = {name: [] for name in targets}
                cpu: dict[str, dict[str, float]] = {n: {"rewards": 0.0, "gateway": 0.0}
                                                    for n in targets}  # fmt: skip
                for _ in range(args.rounds):
                    for name, (url, headers) in targets.items():
                        before = {p.name: p.cpu() for p in (rewards, gateway)}
                        run = drive(url, headers, args.connections, args.warmup, args.seconds)
                        results[name].append(asyncio.run(run))
                        for p in (rewards, gateway):
                            cpu[name][p.name] += p.cpu() - before[p.name]
    finally:
        run_sync(lambda: drop_database(admin_url, database))
        if tenant_id:
            with Redis.from_url(redis_url) as redis:
                for key in redis.scan_iter(f"chorus:*{{{tenant_id}}}*"):
                    redis.delete(key)

    rows = []
    rates: dict[str, float] = {}
    for name, runs in results.items():
        count = sum(r.requests for r in runs)
        elapsed = sum(r.seconds for r in runs)
        latencies = [x for r in runs for x in r.latencies]
        rates[name] = count / elapsed
        per_k = {p: 1000 * c / count for p, c in cpu[name].items()}
        p50, p99 = percentile(latencies, 50) * 1000, percentile(latencies, 99) * 1000
        rows.append([name, f"{count}", f"{rates[name]:.0f}", f"{p50:.2f}", f"{p99:.2f}",
                     f"{sum(r.errors for r in runs)}", f"{per_k['rewards']:.2f}",
                     f"{per_k['gateway']:.2f}"])  # fmt: skip
    print(
        f"GET {PATH}  board of {args.advocates} advocates; {args.connections} connections, "
        f"{args.rounds} x {args.seconds:.0f}s each (after {args.warmup:.0f}s warm-up), "
        f"{os.cpu_count()} cores shared by load generator, services, Postgres and Redis"
    )
    print(format_table(["target", "requests", "req/s", "p50 ms", "p99 ms", "non-200",
                        "rewards cpu-s/1k", "gateway cpu-s/1k"], rows))  # fmt: skip
    ratio = rates["gateway"] / rates["direct"]
    print(f"gateway throughput / direct = {ratio:.1%}  (target >= 70%)")


if __name__ == "__main__":
    main()
