"""A local Redis (Debian's `redis-server`) with append-only persistence in `.local/redis`.

Named `redis_server` rather than `redis` so it can never shadow the redis-py package.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping

from chorus_devstack import procs
from chorus_devstack.component import ComponentStatus, StackError
from chorus_devstack.paths import StackPaths
from chorus_devstack.probes import answers, port_open, redis_ping
from chorus_devstack.settings import (
    DEFAULT_REDIS_URL,
    HOST,
    READY_DEADLINE,
    REDIS_PORT,
    STOP_DEADLINE,
    explicit_endpoint,
)
from chorus_devstack.system import require_binary


def redis_command(binary: str, directory: str, log: str, port: int = REDIS_PORT) -> list[str]:
    return [
        binary,
        "--bind", HOST,
        "--port", str(port),
        "--dir", directory,
        "--daemonize", "no",  # we track the pid ourselves; it must not fork away
        "--appendonly", "yes",
        "--logfile", log,
    ]  # fmt: skip


class RedisServer:
    name = "redis"

    def __init__(self, paths: StackPaths, environ: Mapping[str, str]) -> None:
        self.paths = paths
        self.external = explicit_endpoint("redis", environ)
        self.url = self.external or DEFAULT_REDIS_URL
        self.pid_file = paths.redis / "redis.pid"
        self.log = paths.redis / "redis.log"

    def managed_pid(self) -> int | None:
        # redis-server rewrites its process title to "redis-server 127.0.0.1:<port>".
        marker = f"{HOST}:{REDIS_PORT}"
        return None if self.external else procs.running_pid(self.pid_file, marker)

    def _answers(self) -> bool:
        if not self.external and not port_open(HOST, REDIS_PORT):
            return False
        return answers(lambda: redis_ping(self.url, within=2.0))

    def status(self) -> ComponentStatus:
        pid = self.managed_pid()
        if pid is not None:
            return ComponentStatus(self.name, True, "us", self.url, pid, self.log)
        running = self._answers()
        return ComponentStatus(self.name, running, "external" if running else "-", self.url)

    def ensure(self) -> str:
        pid = self.managed_pid()
        if pid is not None or self.external:
            self.wait_ready(pid)
        elif not self._answers():  # a Redis already answering at the default URL is used
            self.start()
        return self.url

    def start(self) -> None:
        if self.external:
            raise StackError(f"redis is external ({self.url}); not ours to start")
        if self.managed_pid() is not None:
            return
        binary = require_binary("redis-server", "redis-server")
        self.paths.redis.mkdir(parents=True, exist_ok=True)
        cmd = redis_command(binary, str(self.paths.redis), str(self.log))
        pid = procs.spawn_detached(
            cmd, log_path=self.paths.redis / "redis.out", pid_path=self.pid_file,
            cwd=self.paths.redis,
        )  # fmt: skip
        self.wait_ready(pid)

    def wait_ready(self, pid: int | None, timeout: float = READY_DEADLINE) -> None:
        def died() -> str | None:
            return f"process {pid} exited" if pid is not None and not procs.pid_alive(pid) else None

        try:
            procs.poll_until(self._answers, timeout=timeout, interval=0.1, abort=died)
        except (TimeoutError, RuntimeError) as exc:
            logs = [self.log, self.paths.redis / "redis.out"] if pid is not None else []
            raise StackError.not_ready(self.name, self.url, str(exc), logs) from None

    def stop(self) -> bool:
        pid = self.managed_pid()
        if pid is None:
            return False
        procs.terminate(pid, timeout=STOP_DEADLINE)  # SIGTERM: Redis flushes the AOF first
        self.pid_file.unlink(missing_ok=True)
        return True

    def wipe(self) -> None:
        shutil.rmtree(self.paths.redis, ignore_errors=True)
