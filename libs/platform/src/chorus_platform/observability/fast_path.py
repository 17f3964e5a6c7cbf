"""Telemetry for routes answered in front of FastAPI (services' fast paths).

A fast path skips the HTTP metrics middleware and the OpenTelemetry ASGI
instrumentation, so it records the same series itself: request counts and latency
under the route template, and a server span when the caller sent a `traceparent`
or for a sample (`trace_ratio`) of the others. Labelled metric children are bound
once per key: `.labels()` costs a lock and a dict lookup per request.
"""

from __future__ import annotations

import random
from contextlib import AbstractContextManager, nullcontext

from opentelemetry import propagate, trace
from opentelemetry.trace import INVALID_SPAN, Span, SpanKind
from prometheus_client import Counter, Histogram

from chorus_platform.metrics import HTTP_LATENCY, HTTP_REQUESTS


class FastPathTelemetry:
    def __init__(self, service: str, *, trace_ratio: float, tracer_name: str) -> None:
        self.service = service
        self.trace_ratio = trace_ratio
        self._tracer = trace.get_tracer(tracer_name)
        self._counters: dict[tuple[str, str, int], Counter] = {}
        self._latency: dict[tuple[str, str], Histogram] = {}

    def requests(self, method: str, route: str, status: int) -> Counter:
        key = (method, route, status)
        counter = self._counters.get(key)
        if counter is None:
            counter = HTTP_REQUESTS.labels(self.service, method, route, str(status))
            self._counters[key] = counter
        return counter

    def latency(self, method: str, route: str) -> Histogram:
        key = (method, route)
        histogram = self._latency.get(key)
        if histogram is None:
            histogram = HTTP_LATENCY.labels(self.service, method, route)
            self._latency[key] = histogram
        return histogram

    def span(
        self,
        method: str,
        route: str,
        headers: dict[bytes, bytes],
        server: tuple[str, int | None] | None = None,
    ) -> AbstractContextManager[Span]:
        """A server span continuing the caller's trace; a no-op span when not sampled."""
        traceparent = headers.get(b"traceparent")
        if traceparent is None and random.random() >= self.trace_ratio:
            return nullcontext(INVALID_SPAN)
        carrier = {"traceparent": traceparent.decode("latin-1")} if traceparent else {}
        state = headers.get(b"tracestate")
        if traceparent and state:
            carrier["tracestate"] = state.decode("latin-1")
        attributes: dict[str, str | int] = {"http.request.method": method, "http.route": route}
        if server:
            # Which listener answered (semantic conventions): tells replicas apart.
            attributes["server.address"] = server[0]
            if server[1] is not None:
                attributes["server.port"] = server[1]
        return self._tracer.start_as_current_span(
            f"{method} {route}",
            context=propagate.extract(carrier) if carrier else None,
            kind=SpanKind.SERVER,
            attributes=attributes,
        )
