"""Environment overrides, Postgres URLs and configuration."""

from __future__ import annotations

from pathlib import Path

import pytest
from chorus_devstack.pg_admin import check_identifier, render_conf, with_database
from chorus_devstack.plugin import on_test_database
from chorus_devstack.settings import DEFAULT_KAFKA_BOOTSTRAP, explicit_endpoint


def test_environment_overrides_only_when_it_names_another_server() -> None:
    assert explicit_endpoint("kafka", {}) is None
    assert explicit_endpoint("kafka", {"CHORUS_KAFKA_BOOTSTRAP": ""}) is None
    # A shell that sourced .local/stack.env still lets the stack manage its own Kafka.
    assert explicit_endpoint("kafka", {"CHORUS_KAFKA_BOOTSTRAP": DEFAULT_KAFKA_BOOTSTRAP}) is None
    assert explicit_endpoint("kafka", {"CHORUS_KAFKA_BOOTSTRAP": "b:9092"}) == "b:9092"
    assert explicit_endpoint("redis", {"CHORUS_REDIS_URL": "redis://r:1/0"}) == "redis://r:1/0"


def test_with_database_swaps_only_the_database() -> None:
    url = "postgresql://chorus:pw@127.0.0.1:15432/chorus?sslmode=disable"
    assert with_database(url, "chorus_test_ab") == (
        "postgresql://chorus:pw@127.0.0.1:15432/chorus_test_ab?sslmode=disable"
    )


@pytest.mark.parametrize("bad", ["Upper", "drop table x", "x;y", "1abc", "a" * 64, ""])
def test_identifiers_interpolated_into_ddl_are_checked(bad: str) -> None:
    with pytest.raises(ValueError, match="identifier"):
        check_identifier(bad)
    assert check_identifier("chorus_test_0a1b") == "chorus_test_0a1b"


def test_postgres_listens_on_loopback_with_our_port_and_socket_dir() -> None:
    conf = render_conf(15432, Path("/s/run"))
    assert "listen_addresses = '127.0.0.1'" in conf
    assert "port = 15432" in conf
    assert "unix_socket_directories = '/s/run'" in conf


@pytest.mark.parametrize(("memory_gib", "buffers"), [(2, "256MB"), (24, "1024MB"), (0.5, "128MB")])
def test_shared_buffers_are_an_eighth_of_memory_within_bounds(
    memory_gib: float, buffers: str
) -> None:
    conf = render_conf(15432, Path("/s/run"), memory_bytes=int(memory_gib * 2**30))
    assert f"shared_buffers = {buffers}\n" in conf
    assert "max_wal_size = 4GB" in conf


@pytest.mark.unit
@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("redis://127.0.0.1:16379/0", "redis://127.0.0.1:16379/1"),
        ("redis://127.0.0.1:16379", "redis://127.0.0.1:16379/1"),
        ("redis://:pw@10.0.0.5:6379/", "redis://:pw@10.0.0.5:6379/1"),
        ("redis://127.0.0.1:16379/7", "redis://127.0.0.1:16379/7"),
    ],
)
def test_tests_use_their_own_redis_database_unless_one_is_chosen(given: str, used: str) -> None:
    assert on_test_database(given) == used
