"""Composition root of the metrics service: `uvicorn chorus_metrics.app:app`."""

from __future__ import annotations

from chorus_events.workers import EVENTS_MIGRATIONS, outbox_relay
from chorus_platform.app import ServiceSpec, create_service_app

from chorus_metrics.settings import MetricsSettings

SERVICE = "metrics"


def build_spec(settings: MetricsSettings | None = None) -> ServiceSpec:
    settings = settings or MetricsSettings()
    return ServiceSpec(
        name=SERVICE,
        settings=settings,
        description="Engagement ingestion, fraud filtering, KPIs → engagement.updated.",
        migrations=[EVENTS_MIGRATIONS],
        workers=[outbox_relay()] if settings.outbox_relay_enabled else [],
    )


spec = build_spec()
app = create_service_app(spec)
