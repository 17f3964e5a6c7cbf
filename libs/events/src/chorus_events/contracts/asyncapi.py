"""The AsyncAPI 3.0.0 description of every Chorus topic, built from the registry.

Pure data (a dict ready for YAML); `chorus_events.schemagen` writes it to
`docs/events/asyncapi.yaml`. Everything is ordered explicitly so the output is
byte-for-byte stable.
"""

from __future__ import annotations

import json
from typing import Any, Final
from uuid import NAMESPACE_URL, uuid5

from pydantic.json_schema import models_json_schema

from chorus_events.contracts import dlq
from chorus_events.contracts.examples import EMITTED_AT, example_for
from chorus_events.contracts.registry import ALL_SPECS, EventSpec
from chorus_events.envelope import CONTENT_TYPE, POISON_REASONS, SPECVERSION, encode

ASYNCAPI_VERSION: Final = "3.0.0"
KAFKA_BINDING_VERSION: Final = "0.5.0"
LOCAL_KAFKA: Final = "127.0.0.1:19092"
TRAIT: Final = "CloudEventsBinaryMode"
DEAD_LETTER: Final = "DeadLetter"

_DESCRIPTION: Final = """\
Every event Chorus publishes on Kafka: content, shares, engagement and the raw
inputs of metrics. Topics are a public, replayable contract.

**Envelope.** CloudEvents 1.0 in Kafka binary content mode: the attributes are
record headers (`ce_specversion`, `ce_id`, `ce_source`, `ce_type`, `ce_time`,
optional `ce_subject`, `content-type: application/json`), W3C `traceparent`
travels beside them, and the record value is the bare JSON payload.

**Keys and ordering.** The record key is `tenant_id:<entity>` (see each
message's Kafka binding). Kafka orders records per partition and one key always
lands on one partition, so events of one entity arrive in the order produced.
Delivery is at least once: deduplicate on `ce_id`.

**Compatibility.** A `ce_type` ends in its major version (`.v1`). Within it,
fields are only added (optional, with a default) and constraints only relaxed;
consumers must ignore fields they do not know. New enum values are added
consumer-first. Anything else is a new `ce_type` (`.v2`), published beside the
old one until every consumer has moved.

**Dead letters.** A record a consumer can never process is copied unchanged
(key, value, headers) to `<topic>.dlq` with these extra UTF-8 headers:
`chorus_error_reason` (short code), `chorus_error_detail` (human text),
`chorus_original_topic`, `chorus_original_partition`, `chorus_original_offset`,
`chorus_consumer_group`, `chorus_failed_at` (RFC 3339). The consumer then moves
on. Operators inspect dead letters and may re-produce them to the original topic.
"""


def asyncapi_document(version: str) -> dict[str, Any]:
    """The whole AsyncAPI document; `version` is the contract set's version."""
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {DEAD_LETTER: _dead_letter_message()}
    for spec in sorted(ALL_SPECS, key=lambda s: (s.topic, s.ce_type)):
        name = _message_name(spec)
        channel_id = _channel_id(spec.topic)
        messages[name] = _message(spec)
        channels[channel_id] = _channel(spec, name)
        channels[channel_id + "Dlq"] = _dlq_channel(spec)
        message_ref = {"$ref": f"#/channels/{channel_id}/messages/{name}"}
        actors = [("send", spec.producer)] + [("receive", c) for c in spec.consumers]
        for action, service in actors:
            verb = "Sends" if action == "send" else "Receives"
            operations[f"{service}{verb}{name}"] = {
                "action": action,
                "channel": {"$ref": f"#/channels/{channel_id}"},
                "title": f"{service} {'sends' if action == 'send' else 'receives'} {spec.ce_type}",
                "tags": [{"name": service}],
                "messages": [message_ref],
            }
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {"title": "Chorus events", "version": version, "description": _DESCRIPTION},
        "defaultContentType": CONTENT_TYPE,
        "servers": {
            "local": {
                "host": LOCAL_KAFKA,
                "protocol": "kafka",
                "title": "Local development Kafka",
                "description": "Single-node KRaft broker started by `make up`.",
            }
        },
        "channels": channels,
        "operations": dict(sorted(operations.items())),
        "components": {
            "schemas": _payload_schemas(),
            "messages": dict(sorted(messages.items())),
            "messageTraits": {TRAIT: _trait()},
        },
    }


def _channel_id(topic: str) -> str:
    """`engagement.updated` -> `engagementUpdated`."""
    first, *rest = topic.replace("-", ".").split(".")
    return first + "".join(part.capitalize() for part in rest)


def _message_name(spec: EventSpec[Any]) -> str:
    return spec.payload.__name__


def _payload_schemas() -> dict[str, Any]:
    _, top = models_json_schema(
        [(spec.payload, "validation") for spec in ALL_SPECS],
        ref_template="#/components/schemas/{model}",
    )
    return dict(sorted(top.get("$defs", {}).items()))


def _channel(spec: EventSpec[Any], name: str) -> dict[str, Any]:
    return {
        "address": spec.topic,
        "title": spec.topic,
        "description": (
            f"{spec.summary} Produced by {spec.producer}; consumed by "
            f"{', '.join(spec.consumers)}. Key: `{spec.key_format}`."
        ),
        "messages": {name: {"$ref": f"#/components/messages/{name}"}},
        "bindings": {"kafka": {"topic": spec.topic, "bindingVersion": KAFKA_BINDING_VERSION}},
    }


def _dlq_channel(spec: EventSpec[Any]) -> dict[str, Any]:
    return {
        "address": spec.dlq_topic,
        "title": spec.dlq_topic,
        "description": f"Dead letters of `{spec.topic}` (records no consumer could process).",
        "messages": {DEAD_LETTER: {"$ref": f"#/components/messages/{DEAD_LETTER}"}},
        "bindings": {"kafka": {"topic": spec.dlq_topic, "bindingVersion": KAFKA_BINDING_VERSION}},
    }


def _message(spec: EventSpec[Any]) -> dict[str, Any]:
    example = example_for(spec)
    record = encode(
        spec,
        example,
        source=f"/chorus/{spec.producer}",
        event_id=str(uuid5(NAMESPACE_URL, spec.ce_type)),
        time=EMITTED_AT[spec.ce_type],
    )
    return {
        "name": spec.ce_type,
        "title": _message_name(spec),
        "summary": spec.summary,
        "contentType": CONTENT_TYPE,
        "traits": [{"$ref": f"#/components/messageTraits/{TRAIT}"}],
        "correlationId": {
            "description": "The CloudEvents id; unique per event, used for deduplication.",
            "location": "$message.header#/ce_id",
        },
        "headers": _headers_schema(spec),
        "payload": {"$ref": f"#/components/schemas/{_message_name(spec)}"},
        "bindings": {
            "kafka": {
                "key": {
                    "type": "string",
                    "description": f"`{spec.key_format}`",
                    "examples": [record.key.decode()],
                },
                "bindingVersion": KAFKA_BINDING_VERSION,
            }
        },
        "examples": [
            {
                "name": "example",
                "headers": {name: value.decode() for name, value in record.headers},
                "payload": json.loads(record.value),
            }
        ],
    }


def _headers_schema(spec: EventSpec[Any] | None) -> dict[str, Any]:
    """Kafka headers of a binary-mode CloudEvent; `spec` pins ce_type and ce_source."""
    ce_type: dict[str, Any] = {"type": "string", "description": "Event type, ends in `.v<N>`."}
    ce_source: dict[str, Any] = {
        "type": "string",
        "minLength": 1,
        "description": "Producing service, `/chorus/<service>`.",
    }
    if spec is not None:
        ce_type["const"] = spec.ce_type
        ce_source["examples"] = [f"/chorus/{spec.producer}"]
    return {
        "type": "object",
        "required": ["ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time", "content-type"],
        "properties": {
            "ce_specversion": {"type": "string", "const": SPECVERSION},
            "ce_id": {
                "type": "string",
                "minLength": 1,
                "description": "Unique event id (a UUID); deduplicate on it.",
            },
            "ce_source": ce_source,
            "ce_type": ce_type,
            "ce_time": {
                "type": "string",
                "format": "date-time",
                "description": "When it happened (RFC 3339, UTC).",
            },
            "ce_subject": {
                "type": "string",
                "description": "Id of the entity the event is about.",
            },
            "content-type": {"type": "string", "const": CONTENT_TYPE},
            "traceparent": {
                "type": "string",
                "pattern": "^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$",
                "description": "W3C trace context of the operation that caused the event.",
            },
        },
    }


def _trait() -> dict[str, Any]:
    return {
        "summary": "CloudEvents 1.0, Kafka binary content mode.",
        "description": (
            "Attributes as `ce_*` headers, the JSON payload as the record value, "
            "W3C `traceparent` beside them."
        ),
        "contentType": CONTENT_TYPE,
        "headers": _headers_schema(None),
    }


def _dead_letter_message() -> dict[str, Any]:
    text: dict[str, Any] = {"type": "string", "minLength": 1}
    integer_text: dict[str, Any] = {"type": "string", "pattern": "^[0-9]+$"}
    return {
        "name": "dead-letter",
        "title": DEAD_LETTER,
        "summary": "A record a consumer could not process, with the reason.",
        "description": (
            "The original record unchanged (key, value bytes and every original header, "
            "`ce_*` included), plus the error headers below. Poison reasons: "
            + ", ".join(f"`{reason}`" for reason in POISON_REASONS)
            + "; handlers may add their own codes."
        ),
        "headers": {
            "type": "object",
            "required": list(dlq.DLQ_HEADERS),
            "properties": {
                dlq.ERROR_REASON: {**text, "description": "Short error code."},
                dlq.ERROR_DETAIL: {"type": "string", "description": "Human-readable detail."},
                dlq.ORIGINAL_TOPIC: text,
                dlq.ORIGINAL_PARTITION: integer_text,
                dlq.ORIGINAL_OFFSET: integer_text,
                dlq.CONSUMER_GROUP: text,
                dlq.FAILED_AT: {"type": "string", "format": "date-time"},
            },
        },
        "payload": {
            "description": "The original record value, byte for byte (possibly not valid JSON)."
        },
    }
