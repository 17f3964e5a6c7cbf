"""A service as several reuse-port workers: spread, metrics summed, stopped as one."""

from __future__ import annotations

import http.client
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from chorus_devstack.fleet import free_port
from chorus_devstack.serving import service_workers, uvicorn_command, workers_env

# Answers with its worker's pid; /metrics through the platform's scrape (all workers).
APP = """
import os
from prometheus_client import Counter
from chorus_platform.app import _scraped_registry
from prometheus_client import generate_latest

HITS = Counter("test_hits_total", "Requests.")

async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    HITS.inc()
    metrics = scope["path"] == "/metrics"
    body = generate_latest(_scraped_registry()) if metrics else str(os.getpid()).encode()
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
"""


def _get(port: int, path: str) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
        return str(response.read().decode())


def _start(tmp_path: Path, workers: int) -> tuple[subprocess.Popen[bytes], int]:
    (tmp_path / "pidapp.py").write_text(APP)
    port = free_port()
    cmd = uvicorn_command(sys.executable, "x", "127.0.0.1", port, workers=workers,
                          extra=("--log-level", "warning"))  # fmt: skip
    cmd[cmd.index("chorus_x.app:app")] = "pidapp:app"
    env = {**os.environ, "PYTHONPATH": str(tmp_path),
           **workers_env(workers, tmp_path / "metrics")}  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, start_new_session=True)
    deadline = time.monotonic() + 30
    while True:
        try:
            _get(port, "/")
            return proc, port
        except OSError:
            assert proc.poll() is None, "the service exited while starting"
            assert time.monotonic() < deadline, "the service did not start"
            time.sleep(0.1)


def _pids_serving(port: int, connections: int) -> set[str]:
    """Pids answering `connections` fresh connections (each one request)."""
    opened = [http.client.HTTPConnection("127.0.0.1", port, timeout=5) for _ in range(connections)]
    for conn in opened:
        conn.connect()  # all open at once, as a pool's or a load generator's
    pids = set()
    for conn in opened:
        conn.request("GET", "/")
        pids.add(conn.getresponse().read().decode())
        conn.close()
    return pids


@pytest.mark.unit
def test_workers_setting_defaults_to_one_process_two_for_sharing() -> None:
    assert service_workers("sharing", {}) == 2  # the public redirect's default
    assert service_workers("gateway", {}) == 1
    assert service_workers("sharing", {"CHORUS_SHARING_WORKERS": "1"}) == 1
    with pytest.raises(ValueError, match="at least 1"):
        service_workers("metrics", {"CHORUS_METRICS_WORKERS": "0"})


@pytest.mark.unit
def test_connections_reach_every_worker_and_metrics_add_up(tmp_path: Path) -> None:
    proc, port = _start(tmp_path, workers=2)
    try:
        # Both workers listen once the first answered? Not necessarily: retry briefly.
        deadline = time.monotonic() + 30
        while len(pids := _pids_serving(port, 32)) < 2:
            assert time.monotonic() < deadline, f"only {pids} serve"
        hits = [line for line in _get(port, "/metrics").splitlines()
                if line.startswith("test_hits_total")]  # fmt: skip
        # Every request so far, whichever worker served it (the scrape counts itself).
        assert hits and float(hits[0].split()[-1]) >= 33
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0, "a SIGTERM stops every worker gracefully"


@pytest.mark.unit
def test_a_dead_worker_stops_the_whole_service(tmp_path: Path) -> None:
    proc, port = _start(tmp_path, workers=2)
    try:
        worker = int(_pids_serving(port, 1).pop())
        os.kill(worker, signal.SIGKILL)
        assert proc.wait(timeout=30) != 0, "the launcher sees the service die"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
    with pytest.raises(OSError):
        _get(port, "/")


@pytest.mark.unit
def test_a_port_already_served_is_refused_not_shared(tmp_path: Path) -> None:
    proc, port = _start(tmp_path, workers=2)
    try:
        second = subprocess.run(
            [sys.executable, "-m", "chorus_devstack.reuseport", "--workers", "2", "pidapp:app",
             "--port", str(port)],
            cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(tmp_path)},
            capture_output=True, text=True, timeout=30, check=False,
        )  # fmt: skip
        assert second.returncode == 1 and "already in use" in second.stderr
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
