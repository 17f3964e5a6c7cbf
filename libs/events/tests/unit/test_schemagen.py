"""The generated event docs: up to date, valid AsyncAPI 3.0.0, every reference resolvable."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from chorus_events import schemagen
from chorus_events.contracts import ALL_SPECS, DLQ_TOPICS, TOPICS
from chorus_events.contracts.dlq import DLQ_HEADERS
from chorus_events.contracts.examples import example_for

pytestmark = pytest.mark.unit

DOCS = schemagen.default_docs_dir()


@pytest.fixture(scope="module")
def asyncapi() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((DOCS / schemagen.ASYNCAPI_FILE).read_text("utf-8"))
    return document


def _resolve(document: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), f"only local refs are expected, got {ref}"
    node: Any = document
    for part in ref[2:].split("/"):
        assert isinstance(node, dict) and part in node, f"dangling $ref {ref}"
        node = node[part]
    return node


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


# --- checked-in docs are current -------------------------------------------------------


def test_checked_in_docs_are_not_stale() -> None:
    stale = schemagen.stale_files(DOCS)
    assert stale == [], f"regenerate with `python -m chorus_events.schemagen`: {stale}"


def test_output_is_deterministic() -> None:
    assert schemagen.render() == schemagen.render()


def test_check_names_changed_missing_and_orphaned_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert schemagen.main(["--out", str(tmp_path)]) == 0
    assert schemagen.main(["--check", "--out", str(tmp_path)]) == 0

    changed = tmp_path / "schemas" / "io.chorus.share.posted.v1.json"
    changed.write_text(changed.read_text("utf-8").replace("advocate_id", "advocate"), "utf-8")
    (tmp_path / "asyncapi.yaml").unlink()
    (tmp_path / "schemas" / "io.chorus.share.posted.v0.json").write_text("{}", "utf-8")
    capsys.readouterr()

    assert schemagen.main(["--check", "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    for name in ("share.posted.v1.json", "asyncapi.yaml", "share.posted.v0.json"):
        assert name in err

    assert schemagen.main(["--out", str(tmp_path)]) == 0
    assert schemagen.stale_files(tmp_path) == []
    assert not (tmp_path / "schemas" / "io.chorus.share.posted.v0.json").exists()


# --- JSON Schemas ---------------------------------------------------------------------


@pytest.mark.parametrize("spec", ALL_SPECS, ids=lambda s: s.ce_type)
def test_one_json_schema_per_event_type(spec: Any) -> None:
    schema = json.loads((DOCS / "schemas" / f"{spec.ce_type}.json").read_text("utf-8"))
    assert schema["$id"] == schemagen.schema_id(spec.ce_type)
    assert schema["$schema"] == schemagen.SCHEMA_DIALECT
    assert schema["title"] == spec.payload.__name__
    assert schema["x-chorus-topic"] == spec.topic
    assert "tenant_id" in schema["required"]
    assert set(schema["properties"]) == set(spec.payload.model_fields)
    for ref in _refs(schema):
        _resolve(schema, ref)


def test_no_schema_files_besides_the_registered_types() -> None:
    files = {path.name for path in (DOCS / "schemas").glob("*.json")}
    assert files == {f"{spec.ce_type}.json" for spec in ALL_SPECS}


# --- AsyncAPI -------------------------------------------------------------------------


def test_asyncapi_is_version_3_with_the_local_kafka_server(asyncapi: dict[str, Any]) -> None:
    assert asyncapi["asyncapi"] == "3.0.0"
    assert asyncapi["info"]["title"] == "Chorus events"
    assert isinstance(asyncapi["info"]["version"], str)
    assert asyncapi["servers"]["local"] == {
        **asyncapi["servers"]["local"],
        "host": "127.0.0.1:19092",
        "protocol": "kafka",
    }


def test_a_channel_per_topic_and_per_dead_letter_topic(asyncapi: dict[str, Any]) -> None:
    addresses = sorted(channel["address"] for channel in asyncapi["channels"].values())
    assert addresses == sorted([*TOPICS, *DLQ_TOPICS])
    for channel in asyncapi["channels"].values():
        assert channel["bindings"]["kafka"]["topic"] == channel["address"]


def test_every_reference_resolves(asyncapi: dict[str, Any]) -> None:
    refs = list(_refs(asyncapi))
    assert len(refs) > 50
    for ref in refs:
        _resolve(asyncapi, ref)


@pytest.mark.parametrize("spec", ALL_SPECS, ids=lambda s: s.ce_type)
def test_each_event_message_is_fully_described(asyncapi: dict[str, Any], spec: Any) -> None:
    channel = next(c for c in asyncapi["channels"].values() if c["address"] == spec.topic)
    (message_ref,) = channel["messages"].values()
    message = _resolve(asyncapi, message_ref["$ref"])

    assert message["name"] == spec.ce_type
    payload = _resolve(asyncapi, message["payload"]["$ref"])
    assert set(payload["properties"]) == set(spec.payload.model_fields)
    assert message["headers"]["properties"]["ce_type"]["const"] == spec.ce_type
    assert {"ce_id", "ce_source", "ce_time", "ce_specversion"} <= set(
        message["headers"]["required"]
    )
    assert message["bindings"]["kafka"]["key"]["type"] == "string"
    for trait in message["traits"]:
        assert "headers" in _resolve(asyncapi, trait["$ref"])

    (example,) = message["examples"]
    assert spec.payload.model_validate(example["payload"]) == example_for(spec)
    assert example["headers"]["ce_type"] == spec.ce_type
    assert message["bindings"]["kafka"]["key"]["examples"] == [spec.key(example_for(spec))]


@pytest.mark.parametrize("spec", ALL_SPECS, ids=lambda s: s.ce_type)
def test_operations_follow_the_architecture(asyncapi: dict[str, Any], spec: Any) -> None:
    channel_id = next(k for k, c in asyncapi["channels"].items() if c["address"] == spec.topic)
    actors = {
        (op["action"], op["tags"][0]["name"])
        for op in asyncapi["operations"].values()
        if op["channel"]["$ref"] == f"#/channels/{channel_id}"
    }
    assert actors == {("send", spec.producer)} | {("receive", c) for c in spec.consumers}


def test_dead_letter_message_documents_the_error_headers(asyncapi: dict[str, Any]) -> None:
    dead_letter = asyncapi["components"]["messages"]["DeadLetter"]
    assert set(dead_letter["headers"]["required"]) == set(DLQ_HEADERS)
    assert "<topic>.dlq" in asyncapi["info"]["description"]
    for header in DLQ_HEADERS:
        assert header in asyncapi["info"]["description"]
