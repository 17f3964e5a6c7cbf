"""The broker configuration the local stack writes, and the cluster ids it formats with."""

from __future__ import annotations

import base64
import re
import secrets
from pathlib import Path

import pytest
from chorus_devstack import kafka_config
from chorus_devstack.kafka_config import new_cluster_id, render_log4j, render_server_properties
from chorus_devstack.settings import KAFKA_CONTROLLER_PORT, KAFKA_PORT


def _props(text: str) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in text.splitlines() if line and line[0] != "#")
    return {key: value for key, value in pairs}


def test_server_properties_make_a_single_kraft_node_on_loopback_only() -> None:
    props = _props(
        render_server_properties(Path("/stack/kafka/data"), port=19092, controller_port=19093)
    )
    assert props["process.roles"] == "broker,controller"
    assert props["node.id"] == "1"
    assert props["controller.quorum.voters"] == "1@127.0.0.1:19093"
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093"
    assert props["advertised.listeners"] == "PLAINTEXT://127.0.0.1:19092"
    assert props["log.dirs"] == "/stack/kafka/data"
    assert "0.0.0.0" not in render_server_properties(Path("/d"))  # noqa: S104


def test_server_properties_fit_one_broker_and_fast_tests() -> None:
    props = _props(render_server_properties(Path("/d")))
    for key in (
        "offsets.topic.replication.factor",
        "transaction.state.log.replication.factor",
        "transaction.state.log.min.isr",
        "min.insync.replicas",
        "default.replication.factor",
    ):
        assert props[key] == "1", key
    assert props["num.partitions"] == "3"
    assert props["auto.create.topics.enable"] == "true"
    assert props["group.initial.rebalance.delay.ms"] == "0"


def test_default_ports_are_the_stack_ports() -> None:
    props = _props(render_server_properties(Path("/d")))
    assert props["advertised.listeners"] == f"PLAINTEXT://127.0.0.1:{KAFKA_PORT}"
    assert props["controller.quorum.voters"] == f"1@127.0.0.1:{KAFKA_CONTROLLER_PORT}"


def test_ports_are_configurable() -> None:
    props = _props(render_server_properties(Path("/d"), port=1234, controller_port=1235))
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:1234,CONTROLLER://127.0.0.1:1235"
    assert props["controller.quorum.voters"] == "1@127.0.0.1:1235"


def test_log4j_writes_into_the_stack_log_directory() -> None:
    text = render_log4j(Path("/stack/kafka/logs"))
    assert "log4j.appender.file.File=/stack/kafka/logs/server.log" in text
    assert text.startswith("# Written by chorus_devstack")


def test_cluster_id_is_16_bytes_base64url_without_padding() -> None:
    cluster_id = new_cluster_id()
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", cluster_id)
    assert len(base64.urlsafe_b64decode(cluster_id + "==")) == 16
    assert len({new_cluster_id() for _ in range(200)}) == 200


def test_cluster_id_never_starts_with_a_dash(monkeypatch: pytest.MonkeyPatch) -> None:
    # 0xF8.. encodes to "-..." in base64url; Kafka's tools would parse it as an option.
    draws = iter([b"\xf8" + b"\x01" * 15, b"\x00" * 16, b"\x10" * 16])
    monkeypatch.setattr(secrets, "token_bytes", lambda _n: next(draws))
    assert new_cluster_id() == base64.urlsafe_b64encode(b"\x10" * 16).decode().rstrip("=")


def test_jvm_command_bounds_the_heap_and_points_log4j_at_our_file() -> None:
    cmd = kafka_config.jvm_command("java", "/libs/*", Path("/c/log4j.properties"), "kafka.Kafka")
    assert cmd[0] == "java" and cmd[-1] == "kafka.Kafka"
    assert "-Xmx512m" in cmd
    assert "-Dlog4j.configuration=file:/c/log4j.properties" in cmd
    assert cmd[cmd.index("-cp") + 1] == "/libs/*"
