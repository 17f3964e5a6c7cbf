"""Composition root of the gateway service: `uvicorn chorus_gateway.app:app`."""

from __future__ import annotations

from chorus_events.workers import EVENTS_MIGRATIONS, outbox_relay
from chorus_platform.app import ServiceSpec, create_service_app

from chorus_gateway.settings import GatewaySettings

SERVICE = "gateway"


def build_spec(settings: GatewaySettings | None = None) -> ServiceSpec:
    settings = settings or GatewaySettings()
    return ServiceSpec(
        name=SERVICE,
        settings=settings,
        description="The one public API: authentication, tenancy, routing and rate limits.",
        migrations=[EVENTS_MIGRATIONS],
        workers=[outbox_relay()] if settings.outbox_relay_enabled else [],
    )


spec = build_spec()
app = create_service_app(spec)
