"""A whole Chorus platform as five service processes on free loopback ports.

Journey and fault-injection tests and the platform benchmark need real processes: a
service must be killable with SIGKILL mid-stream and restartable on the same port.
Each fleet has its own consumer groups (a run id in every group name) and starts them
at the topics' ends, so it never shares partitions with `make up`'s services nor
replays what earlier runs left on the shared topics.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx

from chorus_devstack.serving import click_salt, service_workers, uvicorn_command, workers_env
from chorus_devstack.settings import DATABASE_ENV, HOST, KAFKA_ENV, REDIS_ENV, SECRET_ENV

SERVICES: tuple[str, ...] = ("content", "sharing", "metrics", "rewards", "gateway")
"""Start order; the gateway last (its merged OpenAPI document reads the others)."""


def free_port() -> int:
    """A port free now, for a process started next (it binds it itself).

    In-process servers take `reserve_port()` instead: between this probe and a later
    bind, any outgoing connection may be given the same port (seen in CI: uvicorn
    then failed with "address already in use" and a whole e2e module errored).
    """
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def reserve_port() -> socket.socket:
    """A loopback socket bound to a free port and kept: nothing else can take the port
    before the server listens on this very socket (`serve_on_loopback(sock=...)`)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, 0))
    return sock


@dataclass(frozen=True)
class Engines:
    kafka_bootstrap: str
    database_url: str
    redis_url: str
    internal_token_secret: str

    def as_env(self) -> dict[str, str]:
        return {
            KAFKA_ENV: self.kafka_bootstrap,
            DATABASE_ENV: self.database_url,
            REDIS_ENV: self.redis_url,
            SECRET_ENV: self.internal_token_secret,
        }


@dataclass
class Fleet:
    """The five services as child processes. `await start_all()`, `kill(name)`,
    `await start(name)`, `await stop_all()`."""

    engines: Engines
    log_dir: Path
    run: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    extra_env: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    """Per service (or "*" for all): settings beyond the wiring, e.g. faster flushes."""
    python: str = sys.executable
    ready_deadline: float = 120.0
    profiled: frozenset[str] = frozenset()
    """Services run under cProfile; the profile is written to `<log_dir>/<service>.prof`
    when the service stops cleanly (`stop`, not `kill`)."""
    ports: dict[str, int] = field(default_factory=lambda: {s: free_port() for s in SERVICES})
    _procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict, repr=False)
    _logs: dict[str, IO[bytes]] = field(default_factory=dict, repr=False)

    def url(self, service: str) -> str:
        return f"http://{HOST}:{self.ports[service]}"

    @property
    def gateway(self) -> str:
        return self.url("gateway")

    def consumer_groups(self) -> dict[str, str]:
        """Setting name -> consumer group, one set per fleet."""
        return {
            "CHORUS_SHARING_CONSUMER_GROUP": f"sharing-{self.run}",
            "CHORUS_METRICS_SHARES_GROUP": f"metrics-shares-{self.run}",
            "CHORUS_METRICS_INGEST_GROUP": f"metrics-ingest-{self.run}",
            "CHORUS_METRICS_CONTENT_GROUP": f"metrics-content-{self.run}",
            "CHORUS_REWARDS_CONSUMER_GROUP": f"rewards-{self.run}",
        }

    def env_for(self, service: str) -> dict[str, str]:
        wiring = {
            "CHORUS_GATEWAY_CONTENT_URL": self.url("content"),
            "CHORUS_GATEWAY_SHARING_URL": self.url("sharing"),
            "CHORUS_GATEWAY_METRICS_URL": self.url("metrics"),
            "CHORUS_GATEWAY_REWARDS_URL": self.url("rewards"),
            "CHORUS_GATEWAY_PUBLIC_URL": self.gateway,
            "CHORUS_GATEWAY_DEV_KEY_PATH": str(self.log_dir / "gateway-signing-key.pem"),
            "CHORUS_SHARING_CONTENT_URL": self.url("content"),
            "CHORUS_SHARING_PUBLIC_LINK_BASE": self.gateway,
            # One key for every sharing process and restart: one visitor, one fingerprint.
            "CHORUS_SHARING_CLICK_SALT": click_salt(self.engines.internal_token_secret),
        }
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("CHORUS_")}
        return {
            **inherited,
            **self.engines.as_env(),
            **wiring,
            **self.consumer_groups(),
            **self.extra_env.get("*", {}),
            **self.extra_env.get(service, {}),
        }

    def pid(self, service: str) -> int | None:
        proc = self._procs.get(service)
        return proc.pid if proc is not None and proc.poll() is None else None

    def pids(self, service: str) -> list[int]:
        """The service's processes: the one launched and, with several workers, theirs
        (what a CPU or memory figure must add up)."""
        pid = self.pid(service)
        if pid is None:
            return []
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            children = []
        return [pid, *(int(child) for child in children)]

    def spawn(self, service: str) -> None:
        if self.pid(service) is not None:
            return
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = self._logs.get(service)
        if log is None:
            log = self._logs[service] = (self.log_dir / f"{service}.log").open("ab")
        port = self.ports[service]
        env = self.env_for(service)
        if service in self.profiled:
            cmd = [self.python, "-m", "chorus_devstack.profiled", str(self.profile_path(service)),
                   f"chorus_{service}.app:app", HOST, str(port)]  # fmt: skip
        else:
            workers = service_workers(service, {**os.environ, **env})
            cmd = uvicorn_command(self.python, service, HOST, port, workers=workers,
                                  extra=("--log-level", "warning"))  # fmt: skip
            env.update(workers_env(workers, self.log_dir / f"{service}.metrics"))
        # Its own session: `kill` and `stop` reach a supervisor's workers through the group.
        self._procs[service] = subprocess.Popen(
            cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )

    async def wait_ready(self, service: str) -> None:
        """Until `/readyz` answers 200; fails early with the log's tail if it died."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.ready_deadline
        async with httpx.AsyncClient(timeout=2.0) as http:
            while True:
                proc = self._procs[service]
                if proc.poll() is not None:
                    raise RuntimeError(
                        f"{service} exited ({proc.returncode}): {self.tail(service)}"
                    )
                with suppress(httpx.HTTPError):
                    if (await http.get(f"{self.url(service)}/readyz")).status_code == 200:
                        return
                if loop.time() > deadline:
                    raise TimeoutError(f"{service} not ready: {self.tail(service)}")
                await asyncio.sleep(0.2)

    async def start(self, service: str) -> None:
        self.spawn(service)
        await self.wait_ready(service)

    async def start_all(self) -> None:
        from chorus_devstack.kafka_groups import start_groups_at_end

        await start_groups_at_end(
            self.engines.kafka_bootstrap, list(self.consumer_groups().values())
        )
        # The gateway's document merges the others': it starts once they answer.
        for service in SERVICES[:-1]:
            self.spawn(service)
        await asyncio.gather(*(self.wait_ready(s) for s in SERVICES[:-1]))
        await self.start("gateway")

    def kill(self, service: str) -> None:
        """SIGKILL to the service's process group (every worker): no flush, no goodbye."""
        proc = self._procs[service]
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)

    async def stop(self, service: str, grace: float = 30.0) -> None:
        proc = self._procs.get(service)
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            await asyncio.to_thread(proc.wait, grace)
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            await asyncio.to_thread(proc.wait, 10)

    async def stop_all(self) -> None:
        await asyncio.gather(*(self.stop(s) for s in reversed(SERVICES)))
        for log in self._logs.values():
            log.close()
        self._logs.clear()

    def profile_path(self, service: str) -> Path:
        return self.log_dir / f"{service}.prof"

    def tail(self, service: str, lines: int = 30) -> str:
        path = self.log_dir / f"{service}.log"
        if not path.exists():
            return "(no log)"
        text = path.read_text(errors="replace").splitlines()[-lines:]
        return f"--- {path} ---\n" + "\n".join(text)
