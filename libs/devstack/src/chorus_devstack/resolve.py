"""Where the tests' engines come from: environment, then testcontainers, then local stack.

Each engine is resolved on its own, so `CHORUS_KAFKA_BOOTSTRAP=broker:9092` alone uses
that Kafka and still provides Postgres and Redis. A session stops at its end only what
it started itself; a stack that was already up (a developer's `make up`) stays up.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal, Protocol

from chorus_devstack.settings import ENV_BY_COMPONENT, INFRA_COMPONENTS, Endpoints

Source = Literal["env", "testcontainers", "local"]


class LocalStackLike(Protocol):
    def is_managed(self, name: str) -> bool: ...
    def ensure(self, names: Iterable[str]) -> dict[str, str]: ...
    def stop_component(self, name: str) -> bool: ...


@dataclass
class Infra:
    endpoints: Endpoints
    sources: dict[str, Source]
    local: LocalStackLike | None = None
    cleanups: list[Callable[[], None]] = field(default_factory=list)

    def close(self) -> None:
        """Run every cleanup (last first) even if one fails; re-raise the first error."""
        errors: list[BaseException] = []
        while self.cleanups:
            try:
                self.cleanups.pop()()
            except Exception as exc:
                errors.append(exc)
        if errors:
            raise errors[0]


def from_environment(environ: Mapping[str, str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for name in INFRA_COMPONENTS:
        value = environ.get(ENV_BY_COMPONENT[name], "").strip()
        if value:
            found[name] = value
    return found


def _default_local(environ: Mapping[str, str]) -> LocalStackLike:
    from chorus_devstack.stack import LocalStack

    return LocalStack(environ=environ)


def _default_docker(environ: Mapping[str, str]) -> bool:
    from chorus_devstack.containers import docker_engine_available

    return docker_engine_available(environ)


def _default_containers(names: Iterable[str]) -> tuple[dict[str, str], Callable[[], None]]:
    from chorus_devstack.containers import start_containers

    return start_containers(names)


def resolve_infra(
    environ: Mapping[str, str],
    *,
    docker_available: Callable[[Mapping[str, str]], bool] = _default_docker,
    start_containers: Callable[
        [Iterable[str]], tuple[dict[str, str], Callable[[], None]]
    ] = _default_containers,
    local_factory: Callable[[Mapping[str, str]], LocalStackLike] = _default_local,
) -> Infra:
    found = from_environment(environ)
    infra = Infra(Endpoints("", "", ""), dict.fromkeys(found, "env"))
    missing = [name for name in INFRA_COMPONENTS if name not in found]
    try:
        if missing and docker_available(environ):
            started, stop = start_containers(missing)
            infra.cleanups.append(stop)
            found.update(started)
            infra.sources.update(dict.fromkeys(started, "testcontainers"))
            missing = []
        if missing:
            infra.local = local = local_factory(environ)
            already = {name for name in missing if local.is_managed(name)}
            try:
                found.update(local.ensure(missing))
            finally:
                # Also on failure: whatever did start is ours to stop.
                for name in missing:
                    if name not in already and local.is_managed(name):
                        infra.cleanups.append(_stopper(local, name))
            infra.sources.update(dict.fromkeys(missing, "local"))
    except BaseException:
        infra.close()
        raise
    infra.endpoints = Endpoints(found["kafka"], found["postgres"], found["redis"])
    return infra


def _stopper(local: LocalStackLike, name: str) -> Callable[[], None]:
    def stop() -> None:
        local.stop_component(name)

    return stop
