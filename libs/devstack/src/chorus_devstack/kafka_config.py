"""Kafka's configuration files and cluster id for a single-node KRaft broker.

Pure functions (no I/O) so the rendered configuration can be unit-tested.
"""

from __future__ import annotations

import base64
import secrets
from pathlib import Path

from chorus_devstack.settings import HOST, KAFKA_CONTROLLER_PORT, KAFKA_PORT


def new_cluster_id() -> str:
    """A Kafka cluster id: 16 random bytes, base64url without padding (22 chars).

    Kafka's own `Uuid.randomUuid` rejects ids starting with '-' (command-line tools
    would read them as options) and the all-zero id; so do we.
    """
    while True:
        raw = secrets.token_bytes(16)
        cluster_id = base64.urlsafe_b64encode(raw).decode().rstrip("=")
        if not cluster_id.startswith("-") and any(raw):
            return cluster_id


def render_server_properties(
    data_dir: Path,
    *,
    port: int = KAFKA_PORT,
    controller_port: int = KAFKA_CONTROLLER_PORT,
    host: str = HOST,
) -> str:
    """`server.properties` for one combined broker+controller (node 1), bound to `host`."""
    lines = [
        "# Written by chorus_devstack; regenerated on every start.",
        "process.roles=broker,controller",
        "node.id=1",
        f"controller.quorum.voters=1@{host}:{controller_port}",
        f"listeners=PLAINTEXT://{host}:{port},CONTROLLER://{host}:{controller_port}",
        f"advertised.listeners=PLAINTEXT://{host}:{port}",
        "controller.listener.names=CONTROLLER",
        "inter.broker.listener.name=PLAINTEXT",
        "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        f"log.dirs={data_dir}",
        # One broker: every internal topic must accept a replication factor of 1.
        "num.partitions=3",
        "default.replication.factor=1",
        "offsets.topic.replication.factor=1",
        "transaction.state.log.replication.factor=1",
        "transaction.state.log.min.isr=1",
        "min.insync.replicas=1",
        # Fewer internal partitions than the default 50: faster first consumer group.
        "offsets.topic.num.partitions=10",
        "transaction.state.log.num.partitions=10",
        "auto.create.topics.enable=true",
        "delete.topic.enable=true",
        # Consumers join immediately instead of waiting 3 s for more members.
        "group.initial.rebalance.delay.ms=0",
        # Sized for a two-core dev machine.
        "num.network.threads=2",
        "num.io.threads=4",
        "log.retention.hours=168",
        "log.segment.bytes=134217728",
    ]
    return "\n".join(lines) + "\n"


def render_log4j(log_dir: Path) -> str:
    """log4j 1.x (reload4j) config: everything to a rolling `server.log` in `log_dir`."""
    return f"""# Written by chorus_devstack.
log4j.rootLogger=INFO, file
log4j.appender.file=org.apache.log4j.RollingFileAppender
log4j.appender.file.File={log_dir}/server.log
log4j.appender.file.MaxFileSize=20MB
log4j.appender.file.MaxBackupIndex=3
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.request.logger=WARN
log4j.logger.state.change.logger=WARN
log4j.logger.org.apache.kafka.clients=WARN
"""


def jvm_command(java: str, classpath: str, log4j_file: Path, main: str, *args: str) -> list[str]:
    """The `java` command line that runs Kafka's `main` class with a bounded heap."""
    return [
        java,
        "-Xms256m",
        "-Xmx512m",
        "-XX:+UseG1GC",
        "-XX:MaxGCPauseMillis=20",
        "-XX:+ExitOnOutOfMemoryError",
        "-Djava.awt.headless=true",
        f"-Dlog4j.configuration=file:{log4j_file}",
        "-cp",
        classpath,
        main,
        *args,
    ]
