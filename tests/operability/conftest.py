"""One platform for the operability integration tests (package scope: started once).

Spans are collected in memory from before the apps exist: consumers decide at
construction whether to make a span per message (only when spans are exported).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import httpx
import pytest
from chorus_platform.observability.tracing import export_spans_to
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from .platform import Platform, Tenant, approved_content, in_feed, new_tenant, running_platform


@dataclass
class Journey:
    platform: Platform
    client: httpx.AsyncClient  # the gateway's
    tenant: Tenant
    item_id: str  # approved content, already in the advocate's feed


@pytest.fixture(scope="package")
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    processor = SimpleSpanProcessor(exporter)
    export_spans_to(processor)
    yield exporter
    processor.shutdown()  # later suites' spans are no longer kept


@pytest.fixture(scope="package")
async def platform(
    spans: InMemorySpanExporter,
    postgres_dsn: str,
    kafka_bootstrap: str,
    redis_url: str,
    internal_token_secret: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Platform]:
    engines = {"database_url": postgres_dsn, "kafka_bootstrap": kafka_bootstrap,
               "redis_url": redis_url, "internal_token_secret": internal_token_secret}  # fmt: skip
    async with running_platform(engines=engines, key_dir=tmp_path_factory.mktemp("ops")) as p:
        yield p


@pytest.fixture(scope="package")
async def journey(platform: Platform) -> AsyncIterator[Journey]:
    async with httpx.AsyncClient(base_url=platform.url("gateway"), timeout=30) as client:
        tenant = await new_tenant(platform, client)
        item_id = await approved_content(tenant)
        await in_feed(tenant, item_id)
        yield Journey(platform, client, tenant, item_id)
