"""Where the test session's engines come from: environment, containers, local stack."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

import pytest
from chorus_devstack.resolve import resolve_infra
from chorus_devstack.settings import DEFAULT_BY_COMPONENT


class FakeLocalStack:
    """Our own port (LocalStackLike) in memory: records what it was asked to do."""

    def __init__(self, running: set[str] | None = None, fail: str | None = None) -> None:
        self.running = set(running or ())
        self.fail = fail
        self.ensured: list[str] = []
        self.stopped: list[str] = []

    def is_managed(self, name: str) -> bool:
        return name in self.running

    def ensure(self, names: Iterable[str]) -> dict[str, str]:
        names = list(names)
        self.ensured.extend(names)
        for name in names:
            if name == self.fail:
                raise RuntimeError(f"{name} broke")
            self.running.add(name)
        return {name: f"local-{name}" for name in names}

    def stop_component(self, name: str) -> bool:
        self.stopped.append(name)
        self.running.discard(name)
        return True


def _no_docker(_env: Mapping[str, str]) -> bool:
    return False


def _containers_forbidden(_names: Iterable[str]) -> tuple[dict[str, str], Callable[[], None]]:
    raise AssertionError("containers must not start")


ENV = {
    "CHORUS_KAFKA_BOOTSTRAP": "broker:9092",
    "CHORUS_DATABASE_URL": "postgresql://u@db/x",
    "CHORUS_REDIS_URL": "redis://cache/0",
}


def test_environment_wins_and_nothing_is_started() -> None:
    def no_local(_env: Mapping[str, str]) -> FakeLocalStack:
        raise AssertionError("local stack must not be touched")

    infra = resolve_infra(
        ENV, docker_available=lambda _e: True, start_containers=_containers_forbidden,
        local_factory=no_local,
    )  # fmt: skip
    assert infra.endpoints.kafka_bootstrap == "broker:9092"
    assert infra.endpoints.database_url == "postgresql://u@db/x"
    assert infra.endpoints.redis_url == "redis://cache/0"
    assert set(infra.sources.values()) == {"env"}
    infra.close()


def test_containers_when_docker_answers_and_they_are_stopped_at_close() -> None:
    stopped: list[bool] = []
    asked: list[str] = []

    def start(names: Iterable[str]) -> tuple[dict[str, str], Callable[[], None]]:
        asked.extend(names)
        return {n: f"container-{n}" for n in asked}, lambda: stopped.append(True)

    env = {"CHORUS_REDIS_URL": "redis://cache/0"}
    infra = resolve_infra(env, docker_available=lambda _e: True, start_containers=start)
    assert asked == ["kafka", "postgres"], "the environment's Redis is not replaced"
    assert infra.endpoints.kafka_bootstrap == "container-kafka"
    assert infra.sources == {
        "redis": "env",
        "kafka": "testcontainers",
        "postgres": "testcontainers",
    }
    assert not stopped
    infra.close()
    assert stopped == [True]


def test_local_stack_without_docker_stops_only_what_this_session_started() -> None:
    local = FakeLocalStack(running={"kafka"})  # a developer's `make up` already runs Kafka
    infra = resolve_infra(
        {}, docker_available=_no_docker, start_containers=_containers_forbidden,
        local_factory=lambda _e: local,
    )  # fmt: skip
    assert local.ensured == ["kafka", "postgres", "redis"]
    assert infra.endpoints.database_url == "local-postgres"
    assert set(infra.sources.values()) == {"local"}
    infra.close()
    assert sorted(local.stopped) == ["postgres", "redis"]
    assert local.running == {"kafka"}


def test_a_failed_start_still_stops_what_did_start() -> None:
    local = FakeLocalStack(fail="redis")
    with pytest.raises(RuntimeError, match="redis broke"):
        resolve_infra(
            {}, docker_available=_no_docker, start_containers=_containers_forbidden,
            local_factory=lambda _e: local,
        )  # fmt: skip
    assert sorted(local.stopped) == ["kafka", "postgres"]


def test_empty_environment_values_do_not_count() -> None:
    local = FakeLocalStack()
    env = {"CHORUS_KAFKA_BOOTSTRAP": "  ", **{"CHORUS_REDIS_URL": DEFAULT_BY_COMPONENT["redis"]}}
    infra = resolve_infra(
        env, docker_available=_no_docker, start_containers=_containers_forbidden,
        local_factory=lambda _e: local,
    )  # fmt: skip
    assert local.ensured == ["kafka", "postgres"]
    assert infra.sources["redis"] == "env"
