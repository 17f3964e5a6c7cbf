"""CloudEvents Kafka binary mode: encode -> record -> decode, and every way a record is poison."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, cast

import pytest
from chorus_events.contracts import ALL_SPECS, CONTENT_APPROVED, SHARE_POSTED, EventSpec
from chorus_events.contracts.examples import example_for
from chorus_events.envelope import (
    POISON_REASONS,
    KafkaRecord,
    PoisonMessage,
    decode,
    encode,
)
from cloudevents.core.bindings import kafka as ce_kafka
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent

pytestmark = pytest.mark.unit

EVENT_ID = "7d1f3c52-0b0e-4d59-a8a5-3f2f8c1e9b10"
TIME = datetime(2025, 3, 3, 9, 15, 0, 250000, tzinfo=UTC)
TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def _share_record(**overrides: Any) -> KafkaRecord:
    return encode(
        SHARE_POSTED,
        example_for(SHARE_POSTED),
        source="/chorus/sharing",
        event_id=EVENT_ID,
        time=TIME,
        extra_headers={"traceparent": TRACEPARENT},
        **overrides,
    )


def _decode(
    record: KafkaRecord,
    *,
    topic: str | None = None,
    value: bytes | object | None = ...,
    headers: list[tuple[str, bytes]] | None = None,
) -> Any:
    """Decode `record` with some of its parts swapped out."""
    return decode(
        record.topic if topic is None else topic,
        record.key,
        record.value if value is ... else cast(bytes | None, value),
        record.headers if headers is None else headers,
    )


def _set_header(record: KafkaRecord, name: str, value: bytes | None) -> list[tuple[str, bytes]]:
    """Headers of `record` with `name` replaced by `value`, or removed when None."""
    headers = [(k, v) for k, v in record.headers if k != name]
    return headers if value is None else [*headers, (name, value)]


# --- round trip -----------------------------------------------------------------------


@pytest.mark.parametrize("spec", ALL_SPECS, ids=lambda s: s.ce_type)
def test_every_event_type_survives_a_round_trip(spec: EventSpec[Any]) -> None:
    payload = example_for(spec)
    record = encode(spec, payload, source="/chorus/test", event_id=EVENT_ID, time=TIME)

    envelope = decode(record.topic, record.key, record.value, record.headers)

    assert record.topic == spec.topic
    assert record.key == spec.key(payload).encode()
    assert envelope.payload == payload
    assert envelope.spec is spec
    assert (envelope.id, envelope.source, envelope.type) == (EVENT_ID, "/chorus/test", spec.ce_type)
    assert envelope.time == TIME
    assert spec.subject is not None and envelope.subject == spec.subject(payload)


def test_record_is_cloudevents_binary_mode() -> None:
    record = _share_record()
    assert record.headers == [
        ("ce_specversion", b"1.0"),
        ("ce_id", EVENT_ID.encode()),
        ("ce_source", b"/chorus/sharing"),
        ("ce_type", b"io.chorus.share.posted.v1"),
        ("ce_time", b"2025-03-03T09:15:00.250000Z"),
        ("ce_subject", b"shr-1001"),
        ("content-type", b"application/json"),
        ("traceparent", TRACEPARENT.encode()),
    ]
    assert record.key == b"acme:adv-17"
    # The value is the bare, compact payload JSON, not a structured CloudEvent.
    assert record.value == example_for(SHARE_POSTED).model_dump_json().encode()
    assert record.value.startswith(b'{"tenant_id":"acme","share_id":"shr-1001",')


def test_envelope_headers_include_trace_context() -> None:
    envelope = _decode(_share_record())
    assert envelope.headers["traceparent"] == TRACEPARENT
    assert envelope.headers["ce_type"] == "io.chorus.share.posted.v1"


def test_encode_is_deterministic_given_id_and_time() -> None:
    assert _share_record() == _share_record()


def test_outbox_can_re_encode_a_stored_payload_byte_for_byte() -> None:
    first = _share_record()
    stored = SHARE_POSTED.payload.model_validate_json(first.value)
    again = encode(
        SHARE_POSTED,
        stored,
        source="/chorus/sharing",
        event_id=EVENT_ID,
        time=TIME,
        extra_headers={"traceparent": TRACEPARENT},
    )
    assert again == first


def test_defaults_are_a_fresh_uuid_and_now() -> None:
    before = datetime.now(UTC)
    a = decode(*_parts(encode(SHARE_POSTED, example_for(SHARE_POSTED), source="/s")))
    b = decode(*_parts(encode(SHARE_POSTED, example_for(SHARE_POSTED), source="/s")))
    assert a.id != b.id and len(a.id) == 36
    assert before <= a.time <= datetime.now(UTC)


def test_time_in_another_zone_is_written_in_utc() -> None:
    cet = datetime(2025, 3, 3, 10, 15, tzinfo=timezone(timedelta(hours=1)))
    record = encode(SHARE_POSTED, example_for(SHARE_POSTED), source="/s", event_id="e", time=cet)
    assert ("ce_time", b"2025-03-03T09:15:00Z") in record.headers
    assert _decode(record).time == cet


def _parts(record: KafkaRecord) -> tuple[str, bytes, bytes, list[tuple[str, bytes]]]:
    return record.topic, record.key, record.value, record.headers


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"source": ""}, ValueError),
        ({"event_id": ""}, ValueError),
        ({"time": datetime(2025, 3, 3, 9, 15)}, ValueError),
        ({"extra_headers": {"ce_type": "io.evil.v1"}}, ValueError),
        ({"extra_headers": {"Content-Type": "text/plain"}}, ValueError),
    ],
)
def test_encode_refuses_programming_errors(kwargs: dict[str, Any], error: type[Exception]) -> None:
    arguments: dict[str, Any] = {"source": "/chorus/sharing", **kwargs}
    with pytest.raises(error):
        encode(SHARE_POSTED, example_for(SHARE_POSTED), **arguments)


def test_encode_refuses_a_payload_of_another_type() -> None:
    with pytest.raises(TypeError):
        encode(SHARE_POSTED, cast(Any, example_for(CONTENT_APPROVED)), source="/s")


def test_narrow_types_the_envelope_for_its_own_spec_only() -> None:
    envelope = _decode(_share_record())
    assert envelope.narrow(SHARE_POSTED).payload.share_id == "shr-1001"
    with pytest.raises(TypeError):
        envelope.narrow(CONTENT_APPROVED)


# --- compatibility ---------------------------------------------------------------------


def test_payload_with_an_unknown_field_from_a_newer_producer_decodes() -> None:
    record = _share_record()
    newer = json.loads(record.value) | {"reach_estimate": 1200, "mood": {"x": 1}}
    envelope = _decode(record, value=json.dumps(newer).encode())
    assert envelope.payload == example_for(SHARE_POSTED)


def test_payload_from_an_older_producer_without_optional_fields_decodes() -> None:
    record = _share_record()
    older = json.loads(record.value)
    for optional in ("caption", "team_ids", "campaign_hashtags", "scheduled"):
        del older[optional]
    envelope = _decode(record, value=json.dumps(older).encode())
    assert envelope.payload.caption is None and envelope.payload.scheduled is False


def test_unknown_headers_and_binary_foreign_headers_are_tolerated() -> None:
    record = _share_record()
    headers = [*record.headers, ("x-foreign", b"\xff\xfe"), ("ce_partitionkey", b"k")]
    envelope = _decode(record, headers=headers)
    assert "x-foreign" not in envelope.headers
    assert envelope.headers["ce_partitionkey"] == "k"


def test_absent_content_type_means_json() -> None:
    record = _share_record()
    assert _decode(record, headers=_set_header(record, "content-type", None)).payload
    with_charset = _set_header(record, "content-type", b"application/json; charset=utf-8")
    assert _decode(record, headers=with_charset).payload


# --- interoperability with the official CloudEvents SDK ---------------------------------


def test_official_sdk_reads_our_records() -> None:
    record = _share_record()
    message = ce_kafka.KafkaMessage(
        headers=dict(record.headers), key=record.key, value=record.value
    )
    event = ce_kafka.from_binary(message, JSONFormat(), CloudEvent)
    assert event.get_type() == "io.chorus.share.posted.v1"
    assert event.get_id() == EVENT_ID
    assert event.get_time() == TIME
    assert event.get_data() == json.loads(record.value)


def test_we_read_records_written_by_the_official_sdk() -> None:
    payload = example_for(SHARE_POSTED)
    event = CloudEvent(
        attributes={
            "type": SHARE_POSTED.ce_type,
            "source": "/elsewhere",
            "id": "sdk-1",
            "time": TIME,
            "datacontenttype": "application/json",
        },
        data=payload.model_dump(mode="json"),
    )
    message = ce_kafka.to_binary(event, JSONFormat())
    headers = [(name, value) for name, value in message.headers.items()]

    envelope = decode(SHARE_POSTED.topic, b"acme:adv-17", message.value, headers)

    assert envelope.payload == payload
    assert (envelope.id, envelope.source, envelope.time) == ("sdk-1", "/elsewhere", TIME)


# --- poison messages: each reason --------------------------------------------------------


def _poison(record: KafkaRecord, **changes: Any) -> PoisonMessage:
    with pytest.raises(PoisonMessage) as excinfo:
        _decode(record, **changes)
    return excinfo.value


POISON_CASES: dict[str, Any] = {
    "missing-header": lambda r: {"headers": _set_header(r, "ce_source", None)},
    "bad-header": lambda r: {"headers": _set_header(r, "ce_time", b"yesterday")},
    "unsupported-specversion": lambda r: {"headers": _set_header(r, "ce_specversion", b"0.3")},
    "unsupported-content-type": lambda r: {
        "headers": _set_header(r, "content-type", b"application/avro")
    },
    "unknown-type": lambda r: {"headers": _set_header(r, "ce_type", b"io.chorus.share.posted.v9")},
    "wrong-topic": lambda r: {"topic": "engagement.updated"},
    "empty-value": lambda r: {"value": None},
    "bad-json": lambda r: {"value": b'{"tenant_id": "acme",'},
    "invalid-payload": lambda r: {"value": r.value.replace(b'"linkedin"', b'"myspace"')},
}


def test_every_poison_reason_has_a_case() -> None:
    assert set(POISON_CASES) == set(POISON_REASONS)


@pytest.mark.parametrize("reason", sorted(POISON_CASES))
def test_poison_message_reason(reason: str) -> None:
    record = _share_record()
    error = _poison(record, **POISON_CASES[reason](record))
    assert error.reason == reason
    assert error.detail
    assert str(error).startswith(reason)


@pytest.mark.parametrize(
    "headers",
    [
        [],
        [("ce_specversion", b"1.0")],
        [("ce_specversion", b"1.0"), ("ce_id", b""), ("ce_source", b"/s")],
    ],
    ids=["no headers", "only specversion", "empty id"],
)
def test_missing_or_empty_required_attributes(headers: list[tuple[str, bytes]]) -> None:
    error = _poison(_share_record(), headers=headers)
    assert error.reason == "missing-header"


def test_structured_mode_record_is_rejected_as_missing_headers() -> None:
    record = _share_record()
    error = _poison(record, headers=[("content-type", b"application/cloudevents+json")])
    assert error.reason == "missing-header"


@pytest.mark.parametrize(
    "headers",
    [
        lambda r: [*r.headers, ("ce_type", b"io.chorus.share.posted.v1")],
        lambda r: _set_header(r, "ce_id", b"\xff\xfe"),
        lambda r: _set_header(r, "ce_time", b"2025-03-03T09:15:00"),
    ],
    ids=["duplicate attribute", "non-utf8 attribute", "time without offset"],
)
def test_ambiguous_or_malformed_attributes_are_bad_headers(headers: Any) -> None:
    record = _share_record()
    assert _poison(record, headers=headers(record)).reason == "bad-header"


def test_empty_bytes_value_is_empty_value() -> None:
    assert _poison(_share_record(), value=b"").reason == "empty-value"


def test_invalid_payload_detail_names_the_field_but_not_the_value() -> None:
    record = _share_record()
    bad = json.loads(record.value) | {"advocate_id": "secret:value"}
    error = _poison(record, value=json.dumps(bad).encode())
    assert error.reason == "invalid-payload"
    assert "advocate_id" in error.detail
    assert "secret:value" not in error.detail


def test_json_that_is_not_an_object_is_an_invalid_payload() -> None:
    assert _poison(_share_record(), value=b"[1, 2]").reason == "invalid-payload"


def test_types_restricts_decoding_to_the_consumers_specs() -> None:
    record = _share_record()
    assert _decode_with_types(record, {SHARE_POSTED.ce_type: SHARE_POSTED}).spec is SHARE_POSTED
    with pytest.raises(PoisonMessage) as excinfo:
        _decode_with_types(record, {CONTENT_APPROVED.ce_type: CONTENT_APPROVED})
    assert excinfo.value.reason == "unknown-type"


def _decode_with_types(record: KafkaRecord, types: dict[str, EventSpec[Any]]) -> Any:
    return decode(record.topic, record.key, record.value, record.headers, types)


def test_the_fast_path_gives_the_same_envelope_as_the_careful_one() -> None:
    # Our own records take the fast path; upper-case attribute names (which the
    # careful path lower-cases) force the careful one.
    record = _share_record()
    fast = _decode(record, headers=[*record.headers, ("x-foreign", b"\xff")])
    shouted = [(k.upper() if k.startswith("ce_") else k, v) for k, v in record.headers]
    careful = _decode(record, headers=shouted)
    assert fast == careful and hash(fast) == hash(careful)
    assert "x-foreign" not in fast.headers
    assert fast.headers == careful.headers == {k: v.decode() for k, v in record.headers}
