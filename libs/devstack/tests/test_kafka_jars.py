"""When the Kafka jars count as resolved (so the second start needs no Maven)."""

from __future__ import annotations

from pathlib import Path

import pytest
from chorus_devstack.kafka_jars import MARKER, jars_complete, kafka_libs, pom_digest
from chorus_devstack.paths import StackPaths


def _resolved(tmp_path: Path) -> tuple[Path, Path]:
    pom = tmp_path / "pom.xml"
    pom.write_text("<project>3.9.1</project>")
    libs = tmp_path / "libs"
    libs.mkdir()
    jars = ["kafka_2.13-3.9.1.jar", "kafka-clients-3.9.1.jar"]
    for jar in jars:
        (libs / jar).write_bytes(b"PK")
    (libs / MARKER).write_text("\n".join([pom_digest(pom), *jars]) + "\n")
    return libs, pom


def test_complete_when_marker_matches_pom_and_every_jar_exists(tmp_path: Path) -> None:
    libs, pom = _resolved(tmp_path)
    assert jars_complete(libs, pom)


def test_incomplete_when_a_jar_is_missing(tmp_path: Path) -> None:
    libs, pom = _resolved(tmp_path)
    (libs / "kafka-clients-3.9.1.jar").unlink()
    assert not jars_complete(libs, pom)


def test_incomplete_when_the_pom_changed(tmp_path: Path) -> None:
    libs, pom = _resolved(tmp_path)
    pom.write_text("<project>3.9.2</project>")
    assert not jars_complete(libs, pom)


def test_incomplete_without_marker(tmp_path: Path) -> None:
    libs, pom = _resolved(tmp_path)
    (libs / MARKER).unlink()
    assert not jars_complete(libs, pom)


def test_kafka_home_is_used_as_is(tmp_path: Path) -> None:
    (tmp_path / "kafka" / "libs").mkdir(parents=True)
    (tmp_path / "kafka" / "libs" / "kafka_2.13-3.9.1.jar").write_bytes(b"PK")
    env = {"KAFKA_HOME": str(tmp_path / "kafka")}
    assert kafka_libs(StackPaths(tmp_path / "repo"), env) == tmp_path / "kafka" / "libs"
    with pytest.raises(RuntimeError, match="KAFKA_HOME"):
        kafka_libs(StackPaths(tmp_path / "repo"), {"KAFKA_HOME": str(tmp_path / "nothing")})
