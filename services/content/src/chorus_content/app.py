"""Composition root of the content service: `uvicorn chorus_content.app:app`."""

from __future__ import annotations

from chorus_events.workers import EVENTS_MIGRATIONS, outbox_relay
from chorus_platform.app import ServiceSpec, create_service_app

from chorus_content.settings import ContentSettings

SERVICE = "content"


def build_spec(settings: ContentSettings | None = None) -> ServiceSpec:
    settings = settings or ContentSettings()
    return ServiceSpec(
        name=SERVICE,
        settings=settings,
        description="Content library, guidelines and approval workflow → content.approved.",
        migrations=[EVENTS_MIGRATIONS],
        workers=[outbox_relay()] if settings.outbox_relay_enabled else [],
    )


spec = build_spec()
app = create_service_app(spec)
