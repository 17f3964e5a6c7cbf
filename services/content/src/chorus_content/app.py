"""Composition root of the content service: `uvicorn chorus_content.app:app`."""

from __future__ import annotations

from chorus_events.workers import EVENTS_MIGRATIONS, outbox_relay
from chorus_platform.app import ServiceSpec, WorkerFactory, create_service_app
from chorus_platform.migrate import MigrationSet

from chorus_content.categories.api import router as categories_router
from chorus_content.guidelines.api import router as guidelines_router
from chorus_content.items.api import router as items_router
from chorus_content.scheduler import scheduler
from chorus_content.settings import ContentSettings

SERVICE = "content"
CONTENT_MIGRATIONS = MigrationSet("content", "chorus_content")


def build_spec(settings: ContentSettings | None = None) -> ServiceSpec:
    settings = settings or ContentSettings()
    workers: list[WorkerFactory] = []
    if settings.outbox_relay_enabled:
        workers.append(outbox_relay())
    if settings.scheduler_enabled:
        workers.append(scheduler())
    return ServiceSpec(
        name=SERVICE,
        settings=settings,
        description="Content library, guidelines and approval workflow → content.approved.",
        migrations=[EVENTS_MIGRATIONS, CONTENT_MIGRATIONS],
        routers=[items_router, guidelines_router, categories_router],
        workers=workers,
    )


spec = build_spec()
app = create_service_app(spec)
