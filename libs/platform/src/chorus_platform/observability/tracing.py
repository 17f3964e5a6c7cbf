"""OpenTelemetry setup: one tracer provider per process.

Spans are exported over OTLP/HTTP only when an endpoint is configured; without
one a provider still exists so trace ids are generated, propagated through
Kafka headers and written into logs.
"""

from __future__ import annotations

import logging

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

log = logging.getLogger(__name__)
_exporting = False


def spans_exported() -> bool:
    """True when finished spans go somewhere (an exporter or processor was installed).

    Hot paths (a span per consumed message) use it to skip spans nobody will see.
    """
    return _exporting


def export_spans_to(processor: SpanProcessor) -> None:
    """Add a span processor to the global provider (installing one if needed)."""
    global _exporting
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
    provider.add_span_processor(processor)
    _exporting = True


def configure_tracing(service: str, otlp_endpoint: str | None) -> TracerProvider:
    """Install (once) and return the global tracer provider for `service`."""
    global _exporting
    current = trace.get_tracer_provider()
    if isinstance(current, TracerProvider):
        return current
    provider = TracerProvider(resource=Resource.create({"service.name": f"chorus-{service}"}))
    if otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(
            BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{otlp_endpoint.rstrip('/')}/v1/traces"))
        )
        _exporting = True
        log.info("exporting traces over OTLP to %s", otlp_endpoint)
    trace.set_tracer_provider(provider)
    _instrument_asyncpg()
    return provider


def _instrument_asyncpg() -> None:
    from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor

    instrumentor = AsyncPGInstrumentor()  # type: ignore[no-untyped-call]
    if not instrumentor.is_instrumented_by_opentelemetry:
        instrumentor.instrument()
