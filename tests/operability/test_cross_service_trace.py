"""One gateway request that causes events is one trace across every service it touched.

A share posted through the gateway: the gateway's request span, the sharing
service's request span (the proxy forwards `traceparent`), the relay's producer
span for share.posted, and the consumer spans of metrics and rewards handling it
(the event carries `traceparent` in its Kafka headers) all share one trace id and
form one tree. Spans are told apart by service through the port their server span
listened on, or the consumer group that processed the event.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from urllib.parse import urlsplit

import pytest
from chorus_devstack.waiting import eventually
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from .conftest import Journey
from .platform import Platform

pytestmark = pytest.mark.integration


def service_of(span: ReadableSpan, platform: Platform) -> str | None:
    attrs = span.attributes or {}
    if span.kind is SpanKind.SERVER:
        port = attrs.get("server.port") or attrs.get("net.host.port")
        if port is None:
            for key in ("http.url", "url.full", "http.host"):
                if key in attrs:
                    value = str(attrs[key])
                    port = urlsplit(value if "//" in value else f"//{value}").port
                    break
        return platform.service_on_port(int(str(port))) if port is not None else None
    if span.kind is SpanKind.CONSUMER:
        return platform.groups.get(str(attrs.get("messaging.consumer.group.name")))
    return None


def in_trace(spans: Sequence[ReadableSpan], trace_id: int) -> list[ReadableSpan]:
    return [s for s in spans if s.context is not None and s.context.trace_id == trace_id]


async def traced_share(
    journey: Journey, spans: InMemorySpanExporter, body: dict[str, str]
) -> tuple[int, int]:
    """Post a share through the gateway in a trace the caller starts; wait for its consumers.

    Returns the trace id and the caller's span id (the root's parent).
    """
    platform = journey.platform
    # The caller starts the trace, as a browser with tracing would: its ids are known.
    trace_id, caller_span = secrets.randbits(128), secrets.randbits(64)
    traceparent = f"00-{trace_id:032x}-{caller_span:016x}-01"
    made = await journey.client.post(
        "/v1/shares",
        json={"content_id": journey.item_id, **body},
        headers={**journey.tenant.headers["advocate"], "traceparent": traceparent},
    )
    assert made.status_code == 201, made.text
    share_groups = {g for g in platform.groups if g.startswith(("metrics-shares", "rewards"))}

    async def every_consumer_handled_it() -> bool:
        processed = {
            str((s.attributes or {}).get("messaging.consumer.group.name"))
            for s in in_trace(spans.get_finished_spans(), trace_id)
            if s.kind is SpanKind.CONSUMER
        }
        return share_groups <= processed

    what = f"share.posted of {made.json()['id']} processed by {sorted(share_groups)}"
    await eventually(every_consumer_handled_it, timeout=60, interval=0.1, what=what)
    return trace_id, caller_span


def assert_one_tree(trace: list[ReadableSpan], caller_span: int) -> None:
    """Every span's parent is in the trace, or is the caller's span."""
    ids = {s.context.span_id for s in trace if s.context is not None} | {caller_span}
    orphans = [s.name for s in trace if s.parent is None or s.parent.span_id not in ids]
    assert not orphans, f"spans whose parent is not in the trace: {orphans}"


async def test_a_share_through_the_gateway_is_one_trace_across_every_service_it_touched(
    journey: Journey, spans: InMemorySpanExporter
) -> None:
    # Another network than the traffic's shares: the same one twice is a duplicate.
    trace_id, caller_span = await traced_share(journey, spans, {"network": "x"})
    trace = in_trace(spans.get_finished_spans(), trace_id)

    touched = {service_of(s, journey.platform) for s in trace} - {None}
    assert touched == {"gateway", "sharing", "metrics", "rewards"}, [
        (s.name, s.kind, dict(s.attributes or {})) for s in trace
    ]
    assert_one_tree(trace, caller_span)
    producers = [s for s in trace if s.kind is SpanKind.PRODUCER]
    assert any(s.name == "send share.posted" for s in producers), [s.name for s in producers]
    consumed = [s for s in trace if s.kind is SpanKind.CONSUMER]
    assert {s.name for s in consumed} == {"process share.posted"}


async def test_a_share_with_a_caption_also_traces_the_content_services_guideline_check(
    journey: Journey, spans: InMemorySpanExporter
) -> None:
    platform = journey.platform
    before = {id(s) for s in spans.get_finished_spans()}
    body = {"network": "facebook", "caption": "Proud of the team behind this launch"}
    trace_id, caller_span = await traced_share(journey, spans, body)
    checks = [
        s for s in spans.get_finished_spans()
        if id(s) not in before and s.kind is SpanKind.SERVER
        and service_of(s, platform) == "content" and "guidelines/check" in s.name
    ]  # fmt: skip
    assert checks, "the share with a caption did not ask the content service"
    assert any(s.context is not None and s.context.trace_id == trace_id for s in checks), (
        "content's guideline check span started a trace of its own"
    )
    trace = in_trace(spans.get_finished_spans(), trace_id)
    touched = {service_of(s, platform) for s in trace} - {None}
    assert touched == {"gateway", "sharing", "content", "metrics", "rewards"}
    assert_one_tree(trace, caller_span)
