"""pytest plugin (loaded by the root `addopts`): level markers and engine fixtures.

Imports stay cheap here: only fixtures a test actually requests import aiokafka,
asyncpg or the stack manager, so `pytest -m unit` never touches infrastructure.

Fixtures (session scope unless noted):
    infra             engines from the environment, else testcontainers, else local stack
    kafka_bootstrap   "host:port" of a real Kafka
    postgres_dsn      a fresh database `chorus_test_<random>`, dropped at session end
    redis_url         a real Redis
    kafka_control     (per test) stop/start the local Kafka; skips if it is not ours
    internal_token_secret   random per session
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

import pytest

from chorus_devstack.control import EngineControl
from chorus_devstack.markers import level_for, unit_test_misuse

if TYPE_CHECKING:
    from chorus_devstack.resolve import Infra
    from chorus_devstack.settings import ComponentName


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        markers = [mark.name for mark in item.iter_markers()]
        level = level_for(item.path.parts, markers, getattr(item, "fixturenames", ()))
        if level is not None:
            item.add_marker(level)


def pytest_runtest_setup(item: pytest.Item) -> None:
    markers = [mark.name for mark in item.iter_markers()]
    problem = unit_test_misuse(markers, getattr(item, "fixturenames", ()))
    if problem is not None:
        pytest.fail(problem, pytrace=False)


@pytest.fixture(scope="session")
def infra() -> Iterator[Infra]:
    from chorus_devstack.resolve import resolve_infra

    resolved = resolve_infra(dict(os.environ))
    try:
        yield resolved
    finally:
        resolved.close()


@pytest.fixture(scope="session")
def kafka_bootstrap(infra: Infra) -> str:
    return infra.endpoints.kafka_bootstrap


@pytest.fixture(scope="session")
def redis_url(infra: Infra) -> str:
    return on_test_database(infra.endpoints.redis_url)


TEST_REDIS_DB = 1


def on_test_database(url: str) -> str:
    """`url` on Redis database 1 when it names the default one.

    The tests share the engines they find, and services started by `make up` may be
    running on them: those consume the test tenants' events too and would write the
    tenants' leaderboards into the shared keyspace from their own database, under
    the keys the tests read (and the Redis fault test flushes its database). On
    database 1 neither side sees the other's keys.
    """
    parts = urlsplit(url)
    if parts.path.strip("/") not in ("", "0"):
        return url  # a database chosen on purpose
    return urlunsplit(parts._replace(path=f"/{TEST_REDIS_DB}"))


@pytest.fixture(scope="session")
def postgres_dsn(infra: Infra) -> Iterator[str]:
    from chorus_devstack.pg_admin import create_database, drop_database, with_database
    from chorus_devstack.probes import run_sync

    admin_url = infra.endpoints.database_url
    name = f"chorus_test_{secrets.token_hex(6)}"
    run_sync(lambda: create_database(admin_url, name))
    try:
        yield with_database(admin_url, name)
    finally:
        run_sync(lambda: drop_database(admin_url, name))


@pytest.fixture(scope="session")
def internal_token_secret() -> str:
    return secrets.token_urlsafe(32)


def _engine_control(infra: Infra, component: ComponentName) -> Iterator[EngineControl]:
    from chorus_devstack.settings import DEFAULT_BY_COMPONENT, ENV_BY_COMPONENT
    from chorus_devstack.stack import LocalStack

    local = DEFAULT_BY_COMPONENT[component]
    given = infra.endpoints.as_env()[ENV_BY_COMPONENT[component]]
    # The session database has its own name on the same server: compare host and port.
    if given.split("@")[-1].split("/")[0] != local.split("@")[-1].split("/")[0]:
        pytest.skip(f"{component} at {given} is not the local stack's")
    stack = infra.local if isinstance(infra.local, LocalStack) else LocalStack()
    if not stack.is_managed(component):
        pytest.skip(f"the {component} at the local address was not started by the local stack")
    control = EngineControl(stack, component)
    try:
        yield control
    finally:
        if not control.running:  # a failed fault test must not leave the next without it
            control.start_sync()


@pytest.fixture
def kafka_control(infra: Infra) -> Iterator[EngineControl]:
    yield from _engine_control(infra, "kafka")


@pytest.fixture
def postgres_control(infra: Infra) -> Iterator[EngineControl]:
    yield from _engine_control(infra, "postgres")


@pytest.fixture
def redis_control(infra: Infra) -> Iterator[EngineControl]:
    yield from _engine_control(infra, "redis")
