"""Engines in Docker via testcontainers, for hosts where a Docker engine answers."""

from __future__ import annotations

import importlib
import secrets
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

KAFKA_IMAGE = "confluentinc/cp-kafka:7.7.1"  # Kafka 3.7, KRaft capable
POSTGRES_IMAGE = "postgres:16-alpine"
REDIS_IMAGE = "redis:7-alpine"


def docker_engine_available(environ: Mapping[str, str]) -> bool:
    """True if a Docker engine answers a ping (the CLI alone is not enough).

    Cheap when there is no engine: without DOCKER_HOST or the default socket we do not
    even import the docker client. `CHORUS_TESTCONTAINERS=0` turns containers off.
    """
    if environ.get("CHORUS_TESTCONTAINERS", "").lower() in {"0", "false", "no", "off"}:
        return False
    if not environ.get("DOCKER_HOST") and not Path("/var/run/docker.sock").exists():
        return False
    try:
        docker: Any = importlib.import_module("docker")
        docker.from_env(timeout=3).ping()
    except Exception:
        return False
    return True


def _module(name: str) -> Any:
    # testcontainers >= 4.9 moved the modules under `community`; older ones lack it.
    try:
        return importlib.import_module(f"testcontainers.community.{name}")
    except ImportError:
        return importlib.import_module(f"testcontainers.{name}")


def _start(name: str) -> tuple[Any, str]:
    if name == "kafka":
        kafka = _module("kafka").KafkaContainer(image=KAFKA_IMAGE).with_kraft().start()
        return kafka, str(kafka.get_bootstrap_server())
    if name == "postgres":
        pg = (
            _module("postgres")
            .PostgresContainer(
                POSTGRES_IMAGE, username="chorus", password=secrets.token_hex(12), dbname="chorus"
            )
            .start()
        )
        return pg, str(pg.get_connection_url(driver=None))
    if name == "redis":
        redis = _module("redis").RedisContainer(REDIS_IMAGE).start()
        host, port = redis.get_container_host_ip(), redis.get_exposed_port(6379)
        return redis, f"redis://{host}:{port}/0"
    raise KeyError(name)


def start_containers(names: Iterable[str]) -> tuple[dict[str, str], Callable[[], None]]:
    """Start one container per engine; returns endpoints and a function that stops them."""
    started: list[Any] = []

    def stop_all() -> None:
        for container in reversed(started):
            container.stop()

    endpoints: dict[str, str] = {}
    try:
        for name in names:
            container, endpoints[name] = _start(name)
            started.append(container)
    except BaseException:
        stop_all()
        raise
    return endpoints, stop_all
