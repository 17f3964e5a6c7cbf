"""A real single-node Kafka (KRaft, broker+controller) run from Apache's jars with `java`."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

from chorus_devstack import procs
from chorus_devstack.component import ComponentStatus, StackError
from chorus_devstack.kafka_config import (
    jvm_command,
    new_cluster_id,
    render_log4j,
    render_server_properties,
)
from chorus_devstack.kafka_jars import kafka_libs
from chorus_devstack.paths import StackPaths
from chorus_devstack.probes import answers, kafka_cluster, port_open, split_bootstrap
from chorus_devstack.settings import (
    DEFAULT_KAFKA_BOOTSTRAP,
    READY_DEADLINE,
    STOP_DEADLINE,
    explicit_endpoint,
)
from chorus_devstack.system import require_binary


class KafkaBroker:
    name = "kafka"

    def __init__(self, paths: StackPaths, environ: Mapping[str, str]) -> None:
        self.paths = paths
        self.external = explicit_endpoint("kafka", environ)
        self.bootstrap = self.external or DEFAULT_KAFKA_BOOTSTRAP
        self._environ = environ
        self.pid_file = paths.kafka / "kafka.pid"
        self.server_properties = paths.kafka_config / "server.properties"
        self.log4j = paths.kafka_config / "log4j.properties"
        self.logs = [paths.kafka_logs / "server.log", paths.kafka_logs / "kafka.out"]

    def managed_pid(self) -> int | None:
        # Our config path in the command line tells our broker from any other JVM.
        return (
            None if self.external else procs.running_pid(self.pid_file, str(self.server_properties))
        )

    def _answers(self) -> bool:
        return port_open(*split_bootstrap(self.bootstrap)) and answers(
            lambda: kafka_cluster(self.bootstrap, within=3.0)
        )

    def status(self) -> ComponentStatus:
        pid = self.managed_pid()
        if pid is not None:
            return ComponentStatus(self.name, True, "us", self.bootstrap, pid, self.logs[0])
        running = self._answers()
        return ComponentStatus(self.name, running, "external" if running else "-", self.bootstrap)

    def ensure(self) -> str:
        pid = self.managed_pid()
        if pid is not None or self.external:
            self.wait_ready(pid)
        elif port_open(*split_bootstrap(self.bootstrap)):
            # Not started by us but listening on our port: use it if it is a Kafka.
            try:
                self.wait_ready(None, timeout=10.0)
            except StackError as exc:
                raise StackError(
                    f"{exc}; the port is held by a process the stack did not start"
                ) from None
        else:
            self.start()
        return self.bootstrap

    def start(self) -> None:
        if self.external:
            raise StackError(f"kafka is external ({self.bootstrap}); not ours to start")
        if self.managed_pid() is not None:
            return
        java = require_binary("java", "default-jre-headless")
        classpath = f"{kafka_libs(self.paths, self._environ)}/*"
        for directory in (self.paths.kafka_config, self.paths.kafka_data, self.paths.kafka_logs):
            directory.mkdir(parents=True, exist_ok=True)
        self.server_properties.write_text(render_server_properties(self.paths.kafka_data))
        self.log4j.write_text(render_log4j(self.paths.kafka_logs))
        self._format_storage(java, classpath)
        cmd = jvm_command(java, classpath, self.log4j, "kafka.Kafka", str(self.server_properties))
        pid = procs.spawn_detached(
            cmd, log_path=self.logs[1], pid_path=self.pid_file, cwd=self.paths.kafka
        )
        self.wait_ready(pid)

    def _format_storage(self, java: str, classpath: str) -> None:
        """Format the KRaft metadata log once; `meta.properties` marks a formatted dir."""
        if (self.paths.kafka_data / "meta.properties").exists():
            return
        cmd = jvm_command(
            java, classpath, self.log4j, "kafka.tools.StorageTool",
            "format", "-t", new_cluster_id(), "-c", str(self.server_properties),
        )  # fmt: skip
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise StackError(
                f"kafka: formatting {self.paths.kafka_data} failed (rc={done.returncode}):\n"
                f"{done.stdout}{done.stderr}"
            )

    def wait_ready(self, pid: int | None, timeout: float = READY_DEADLINE) -> None:
        def died() -> str | None:
            return f"process {pid} exited" if pid is not None and not procs.pid_alive(pid) else None

        try:
            procs.poll_until(self._answers, timeout=timeout, interval=0.5, abort=died)
        except (TimeoutError, RuntimeError) as exc:
            logs: list[Path] = self.logs if pid is not None else []
            raise StackError.not_ready(self.name, self.bootstrap, str(exc), logs) from None

    def stop(self) -> bool:
        pid = self.managed_pid()
        if pid is None:
            return False
        procs.terminate(pid, timeout=STOP_DEADLINE)
        self.pid_file.unlink(missing_ok=True)
        return True

    def wipe(self) -> None:
        # Keep the resolved jars: re-downloading them is the slow part of a cold start.
        for directory in (self.paths.kafka_data, self.paths.kafka_logs, self.paths.kafka_config):
            shutil.rmtree(directory, ignore_errors=True)
