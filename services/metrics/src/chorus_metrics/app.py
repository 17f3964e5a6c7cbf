"""Composition root of the metrics service: `uvicorn chorus_metrics.app:app`."""

from __future__ import annotations

from chorus_events.workers import EVENTS_MIGRATIONS, consumer, outbox_relay
from chorus_platform.app import ServiceSpec, WorkerFactory, create_service_app
from chorus_platform.migrate import MigrationSet

from chorus_metrics import consumers
from chorus_metrics.admin.api import router as admin_router
from chorus_metrics.aggregation.flusher import flusher
from chorus_metrics.aggregation.rollup_fold import rollup_folder
from chorus_metrics.connectors.poller import linkedin_poller
from chorus_metrics.kpis.api import router as kpis_router
from chorus_metrics.reach.api import router as reach_router
from chorus_metrics.reported.api import router as reported_router
from chorus_metrics.settings import MetricsSettings

SERVICE = "metrics"
MIGRATIONS = MigrationSet("chorus_metrics", "chorus_metrics")


def build_workers(settings: MetricsSettings) -> list[WorkerFactory]:
    workers: list[WorkerFactory] = []
    if settings.consumers_enabled:
        workers += [
            consumer(settings.shares_group, consumers.SHARE_SPECS, consumers.on_shares),
            consumer(settings.content_group, consumers.CONTENT_SPECS, consumers.on_content),
            *(
                consumer(
                    settings.ingest_group,
                    consumers.INGEST_SPECS,
                    consumers.on_engagement,
                    batch_size=settings.ingest_batch_size,
                    batch_timeout_ms=settings.ingest_batch_timeout_ms,
                    # Clicks are stored once per click id, reported engagement once per
                    # (source, source_event_id), in the batch's transaction: a redelivery
                    # has no second effect without a tracking row per event.
                    tracked=False,
                )
                for _ in range(settings.ingest_consumer_instances)
            ),
        ]
    if settings.flusher_enabled:
        workers.append(flusher(settings))
    # Always: the contributor rankings are only current once their deltas are folded.
    workers.append(rollup_folder(settings))
    if settings.linkedin_analytics_enabled:
        workers.append(linkedin_poller(settings))
    if settings.outbox_relay_enabled:
        workers.append(outbox_relay())
    return workers


def build_spec(settings: MetricsSettings | None = None) -> ServiceSpec:
    settings = settings or MetricsSettings()
    return ServiceSpec(
        name=SERVICE,
        settings=settings,
        description="Engagement ingestion, fraud filtering, KPIs → engagement.updated.",
        migrations=[EVENTS_MIGRATIONS, MIGRATIONS],
        routers=[admin_router, reported_router, kpis_router, reach_router],
        workers=build_workers(settings),
    )


spec = build_spec()
app = create_service_app(spec)
