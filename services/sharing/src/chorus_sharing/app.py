"""Composition root of the sharing service: `uvicorn chorus_sharing.app:app`."""

from __future__ import annotations

from chorus_events import workers as backbone
from chorus_events.workers import EVENTS_MIGRATIONS, outbox_relay
from chorus_platform.app import (
    ServiceContext,
    ServiceSpec,
    Worker,
    WorkerFactory,
    create_service_app,
)
from chorus_platform.migrate import MigrationSet
from fastapi import FastAPI

from chorus_sharing.api import ROUTERS
from chorus_sharing.consumers import SPECS, apply_content_events
from chorus_sharing.fastpath import RedirectFrontedApp, install_redirect_fast_path
from chorus_sharing.runtime import EXTRAS_KEY, SharingRuntime
from chorus_sharing.scheduler import ScheduledSharePublisher
from chorus_sharing.scheduling import DueShares
from chorus_sharing.settings import SharingSettings

SERVICE = "sharing"
SHARING_MIGRATIONS = MigrationSet("chorus_sharing", "chorus_sharing")


def build_spec(settings: SharingSettings | None = None) -> ServiceSpec:
    settings = settings or SharingSettings()
    # Order matters: the runtime starts first (the others use it) and stops last.
    workers: list[WorkerFactory] = [lambda ctx: SharingRuntime(ctx, settings)]
    if settings.outbox_relay_enabled:
        workers.append(outbox_relay())
    if settings.consumers_enabled:
        workers.append(backbone.consumer(settings.consumer_group, SPECS, apply_content_events))
    if settings.scheduler_enabled:
        workers.append(lambda ctx: _scheduler(ctx, settings))
    return ServiceSpec(
        name=SERVICE,
        settings=settings,
        description="Feed, shares, share intents, tracked links → share.posted.",
        migrations=[EVENTS_MIGRATIONS, SHARING_MIGRATIONS],
        routers=ROUTERS,
        workers=workers,
    )


def _scheduler(ctx: ServiceContext, settings: SharingSettings) -> Worker:
    async def publish_due(limit: int) -> DueShares:
        runtime: SharingRuntime = ctx.extras[EXTRAS_KEY]
        return await runtime.scheduled.publish_due(limit)

    scheduler = ScheduledSharePublisher(
        publish_due, interval=settings.scheduler_interval, batch=settings.scheduler_batch
    )
    ctx.extras["scheduler"] = scheduler
    return scheduler


def create_app(settings: SharingSettings | None = None) -> FastAPI:
    """The service's app: the platform's kit plus the redirect's fast path."""
    settings = settings or SharingSettings()
    return _assemble(build_spec(settings), settings)


def _assemble(service_spec: ServiceSpec, settings: SharingSettings) -> FastAPI:
    app = create_service_app(service_spec, app_class=RedirectFrontedApp)
    install_redirect_fast_path(app, SERVICE, trace_ratio=settings.redirect_trace_ratio)
    return app


_settings = SharingSettings()
spec = build_spec(_settings)  # `chorus_platform.migrate` reads its migrations
app = _assemble(spec, _settings)
