"""One trace runs from the request that caused an event through the consumer that applied it."""

from __future__ import annotations

import pytest
from chorus_devstack.waiting import eventually
from chorus_events.testkit import Backbone
from chorus_platform.observability.tracing import export_spans_to
from opentelemetry import trace
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

pytestmark = pytest.mark.integration


@pytest.fixture
def spans() -> InMemorySpanExporter:
    exporter = InMemorySpanExporter()
    export_spans_to(SimpleSpanProcessor(exporter))
    return exporter


async def test_consumer_span_belongs_to_the_producing_request_trace(
    backbone: Backbone, spans: InMemorySpanExporter
) -> None:
    tracer = trace.get_tracer("test")
    with tracer.start_as_current_span("POST /v1/shares", kind=SpanKind.SERVER) as request:
        await backbone.append([42])
    request_trace = request.get_span_context().trace_id

    relay = backbone.relay()
    runner = backbone.runner("g-trace")
    await relay.start()
    await runner.start()
    try:
        await eventually(lambda: _applied(backbone), what="event applied")
    finally:
        await runner.stop()
        await relay.stop()

    finished = spans.get_finished_spans()
    process = [s for s in finished if s.name == f"process {backbone.topic}"]
    send = [s for s in finished if s.name == f"send {backbone.topic}"]
    assert process and send
    assert process[0].context.trace_id == request_trace
    assert send[0].context.trace_id == request_trace
    assert process[0].kind is SpanKind.CONSUMER
    assert process[0].attributes["messaging.consumer.group.name"] == "g-trace"
    assert process[0].attributes["messaging.destination.name"] == backbone.topic


async def _applied(backbone: Backbone) -> bool:
    return 42 in await backbone.effects()
