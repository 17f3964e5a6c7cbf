"""Prometheus and promtool for the operability tests: Debian's `prometheus` package.

Installed the way PostgreSQL and Redis are (apt, only when missing, only as root), so
a fresh CI machine runs the rule tests and the live-scrape test instead of skipping
them. The server runs on a loopback port with a throwaway data directory, for one
test module, and is asked over its HTTP API whether it is ready.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import httpx

from chorus_devstack.fleet import free_port
from chorus_devstack.system import require_binary
from chorus_devstack.waiting import eventually

PACKAGE = "prometheus"


def promtool() -> str:
    """Path of `promtool`, installing Debian's `prometheus` package if needed."""
    return require_binary("promtool", PACKAGE)


def prometheus_binary() -> str:
    return require_binary("prometheus", PACKAGE)


def run_promtool(args: Sequence[str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """`promtool args...`, output captured (the caller asserts on returncode)."""
    return subprocess.run(
        [promtool(), *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


@contextlib.asynccontextmanager
async def running_prometheus(
    config: Path, workdir: Path, *, ready_timeout: float = 60.0
) -> AsyncIterator[str]:
    """A Prometheus server reading `config`, on a free loopback port; yields its URL.

    `--web.enable-lifecycle` lets a test ask for a config reload instead of restarting.
    """
    port = free_port()
    data = workdir / "tsdb"
    data.mkdir(parents=True, exist_ok=True)
    log_path = workdir / "prometheus.log"
    with log_path.open("w") as log:
        proc = await asyncio.create_subprocess_exec(
            prometheus_binary(),
            f"--config.file={config}",
            f"--storage.tsdb.path={data}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--web.enable-lifecycle",
            "--log.level=warn",
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=workdir,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=url, timeout=5) as client:

            async def ready() -> bool:
                if proc.returncode is not None:
                    raise RuntimeError(f"prometheus exited: {log_path.read_text()[-2000:]}")
                try:
                    return (await client.get("/-/ready")).status_code == 200
                except httpx.TransportError:
                    return False

            await eventually(ready, timeout=ready_timeout, interval=0.1, what="prometheus ready")
        yield url
    finally:
        if proc.returncode is None:
            proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), timeout=10)
            except TimeoutError:
                proc.kill()
                await proc.wait()
