"""The five Chorus services as local uvicorn processes, after migrations.

All services are spawned first and awaited afterwards, so their start-up (imports,
connecting to Kafka and Postgres) overlaps instead of adding up.
"""

from __future__ import annotations

import subprocess
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path

from chorus_devstack import procs
from chorus_devstack.component import ComponentStatus, StackError
from chorus_devstack.paths import StackPaths
from chorus_devstack.serving import service_workers, uvicorn_command, workers_env
from chorus_devstack.settings import HOST, MIGRATION_ORDER, READY_DEADLINE, STOP_DEADLINE

_FIND_SPECS = (
    "import importlib.util as u, sys\n"
    "def missing(m):\n"
    "    try:\n"
    "        return u.find_spec(m) is None\n"
    "    except ImportError:\n"
    "        return True\n"
    "print(' '.join(m for m in sys.argv[1:] if missing(m)))\n"
)


def http_status(url: str, timeout: float = 2.0) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (http only)
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except (OSError, ValueError):
        return None


def missing_modules(python: Path, modules: Sequence[str]) -> list[str]:
    """Modules the venv's interpreter cannot find (checked without importing them)."""
    done = subprocess.run(
        [str(python), "-c", _FIND_SPECS, *modules], capture_output=True, text=True, check=True
    )
    return done.stdout.split()


class ServiceProcess:
    def __init__(self, paths: StackPaths, name: str, port: int, python: Path) -> None:
        self.paths = paths
        self.name = name
        self.port = port
        self.python = python
        self.module = f"chorus_{name}.app"
        self.url = f"http://{HOST}:{port}"
        self.pid_file = paths.services / f"{name}.pid"
        self.log = paths.services / f"{name}.log"

    def managed_pid(self) -> int | None:
        return procs.running_pid(self.pid_file, f"{self.module}:app")

    def status(self) -> ComponentStatus:
        pid = self.managed_pid()
        if pid is not None:
            return ComponentStatus(self.name, True, "us", self.url, pid, self.log)
        running = http_status(f"{self.url}/healthz") is not None
        return ComponentStatus(self.name, running, "external" if running else "-", self.url)

    def spawn(self, env: Mapping[str, str]) -> int:
        pid = self.managed_pid()
        if pid is not None:
            return pid
        if http_status(f"{self.url}/healthz") is not None:
            raise StackError(f"{self.name}: port {self.port} is taken by a process not ours")
        workers = service_workers(self.name, env)
        cmd = uvicorn_command(str(self.python), self.name, HOST, self.port, workers=workers)
        env = {**env, **workers_env(workers, self.paths.services / f"{self.name}.metrics")}
        return procs.spawn_detached(
            cmd, log_path=self.log, pid_path=self.pid_file, cwd=self.paths.root, env=env
        )

    def wait_ready(self, pid: int, timeout: float = READY_DEADLINE) -> None:
        def died() -> str | None:
            return None if procs.pid_alive(pid) else f"process {pid} exited"

        try:
            procs.poll_until(
                lambda: http_status(f"{self.url}/readyz") == 200,
                timeout=timeout, interval=0.25, abort=died,
            )  # fmt: skip
        except (TimeoutError, RuntimeError) as exc:
            address = f"{self.url}/readyz"
            raise StackError.not_ready(self.name, address, str(exc), [self.log]) from None

    def stop(self) -> bool:
        pid = self.managed_pid()
        if pid is None:
            return False
        procs.terminate(pid, timeout=STOP_DEADLINE)
        self.pid_file.unlink(missing_ok=True)
        return True


def migrate(paths: StackPaths, python: Path, env: Mapping[str, str]) -> None:
    """Apply every service's migrations (`chorus_platform.migrate`) before any starts."""
    log = paths.services / "migrate.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    cmd = [str(python), "-m", "chorus_platform.migrate", *MIGRATION_ORDER]
    with log.open("wb") as out:
        rc = subprocess.run(
            cmd, cwd=paths.root, env=dict(env), stdout=out, stderr=subprocess.STDOUT, check=False
        ).returncode
    if rc != 0:
        raise StackError(
            f"migrations failed (rc={rc}): {' '.join(cmd)}\n"
            f"--- last lines of {log} ---\n{procs.tail(log)}"
        )


def start_services(
    paths: StackPaths, python: Path, services: Sequence[ServiceProcess], env: Mapping[str, str]
) -> None:
    needed = ["chorus_platform.migrate", *(s.module for s in services)]
    missing = missing_modules(python, needed)
    if missing:
        raise StackError(
            f"cannot start the services: {', '.join(missing)} not importable with {python} "
            "(not written yet, or run `make deps`); `up --infra-only` starts only the engines"
        )
    migrate(paths, python, env)
    pids = [(service, service.spawn(env)) for service in services]
    for service, pid in pids:
        service.wait_ready(pid)
