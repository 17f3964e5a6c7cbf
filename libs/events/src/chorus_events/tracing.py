"""Trace context across Kafka, following the OpenTelemetry messaging conventions.

Producers inject W3C `traceparent` (and `tracestate`) into the record headers
beside the CloudEvents attributes; consumers extract it, so the span of a
consumer handling an event is a child of the request that caused the event.
"""

from __future__ import annotations

from collections.abc import Mapping

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.context import Context

TRACER = trace.get_tracer("chorus_events")
SYSTEM = "kafka"


def current_trace_headers(ctx: Context | None = None) -> dict[str, str]:
    """The W3C headers of the current (or given) context; empty when not tracing."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier, context=ctx)
    return carrier


def context_from_headers(headers: Mapping[str, str]) -> Context:
    return propagate.extract(dict(headers))


def attach(ctx: Context) -> object:
    return otel_context.attach(ctx)


def detach(token: object) -> None:
    otel_context.detach(token)  # type: ignore[arg-type]


def publish_attributes(
    topic: str, event_id: str, partition: int | None = None
) -> dict[str, str | int]:
    attrs: dict[str, str | int] = {
        "messaging.system": SYSTEM,
        "messaging.operation.type": "send",
        "messaging.destination.name": topic,
        "messaging.message.id": event_id,
    }
    if partition is not None:
        attrs["messaging.destination.partition.id"] = str(partition)
    return attrs


def process_attributes(
    topic: str, group: str, event_id: str, partition: int, offset: int
) -> dict[str, str | int]:
    return {
        "messaging.system": SYSTEM,
        "messaging.operation.type": "process",
        "messaging.destination.name": topic,
        "messaging.consumer.group.name": group,
        "messaging.message.id": event_id,
        "messaging.destination.partition.id": str(partition),
        "messaging.kafka.offset": offset,
    }
