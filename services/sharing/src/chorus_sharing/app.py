"""Composition root of the sharing service: `uvicorn chorus_sharing.app:app`."""

from __future__ import annotations

from chorus_events.workers import EVENTS_MIGRATIONS, outbox_relay
from chorus_platform.app import ServiceSpec, create_service_app

from chorus_sharing.settings import SharingSettings

SERVICE = "sharing"


def build_spec(settings: SharingSettings | None = None) -> ServiceSpec:
    settings = settings or SharingSettings()
    return ServiceSpec(
        name=SERVICE,
        settings=settings,
        description="Feed, shares, share intents, tracked links → share.posted.",
        migrations=[EVENTS_MIGRATIONS],
        workers=[outbox_relay()] if settings.outbox_relay_enabled else [],
    )


spec = build_spec()
app = create_service_app(spec)
