"""The one way to build a Chorus service: `create_service_app(ServiceSpec(...))`.

The factory is the composition root's skeleton: settings, logging, tracing, the
asyncpg pool (migrations applied before serving), Redis, problem+json errors,
`/healthz`, `/readyz`, `/metrics`, and the lifespan that starts and stops
background workers (outbox relay, consumers) in order. Services add routers and
workers; they never re-implement any of this.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar, overload

import asyncpg
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from redis.asyncio import Redis

from chorus_platform.db import create_pool
from chorus_platform.gc_tuning import freeze_startup_objects, tune_gc
from chorus_platform.health import Probe, kafka_probe, postgres_probe, redis_probe, run_probes
from chorus_platform.metrics import DEPENDENCY_UP
from chorus_platform.migrate import MigrationSet, apply_migrations
from chorus_platform.observability.http import RequestContextMiddleware
from chorus_platform.observability.logging import configure_logging
from chorus_platform.observability.tracing import configure_tracing
from chorus_platform.problems import install_problem_handlers, problem_response
from chorus_platform.settings import ServiceSettings

log = logging.getLogger(__name__)


class Worker(Protocol):
    """A background task owned by the service's lifespan (relay, consumer)."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


@dataclass
class ServiceContext:
    """What a running service has: handed to worker factories and stored on app.state."""

    name: str
    settings: ServiceSettings
    pool: asyncpg.Pool
    redis: Redis
    extras: dict[str, Any] = field(default_factory=dict)


WorkerFactory = Callable[[ServiceContext], Worker]


@dataclass
class ServiceSpec:
    name: str
    settings: ServiceSettings
    migrations: Sequence[MigrationSet] = ()
    routers: Sequence[APIRouter] = ()
    workers: Sequence[WorkerFactory] = ()
    version: str = "0.1.0"
    description: str = ""


A = TypeVar("A", bound=FastAPI)


@overload
def create_service_app(spec: ServiceSpec) -> FastAPI: ...


@overload
def create_service_app(spec: ServiceSpec, *, app_class: type[A]) -> A: ...


def create_service_app(spec: ServiceSpec, *, app_class: type[FastAPI] = FastAPI) -> FastAPI:
    """The service's app; `app_class` lets a service put something in front of
    FastAPI's own entry (sharing's redirect: `chorus_sharing.fastpath`)."""
    settings = spec.settings
    configure_logging(spec.name, settings.log_level)
    tune_gc()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_tracing(spec.name, settings.otlp_endpoint)
        pool = await create_pool(
            settings.database_url,
            spec.name,
            min_size=settings.db_pool_min,
            max_size=settings.db_pool_max,
        )
        async with pool.acquire() as conn:
            await apply_migrations(conn, spec.name, list(spec.migrations))
        redis = Redis.from_url(settings.redis_url, decode_responses=True)
        ctx = ServiceContext(spec.name, settings, pool, redis)
        app.state.ctx = ctx
        app.state.probes = {
            "postgres": postgres_probe(pool),
            "redis": redis_probe(redis),
            "kafka": kafka_probe(settings.kafka_bootstrap),
        }
        started: list[Worker] = []
        try:
            # Built and started one by one, so a worker may use what an earlier one
            # put in `ctx.extras` when it started.
            for factory in spec.workers:
                worker = factory(ctx)
                await worker.start()
                started.append(worker)
            freeze_startup_objects()
            log.info("service started", extra={"workers": len(started)})
            yield
        finally:
            # Stop in reverse: consumers flush and commit before the pool closes.
            for worker in reversed(started):
                try:
                    await worker.stop()
                except Exception:
                    log.exception("worker failed to stop cleanly")
            await redis.aclose()
            await pool.close()

    app = app_class(
        title=f"Chorus {spec.name}",
        version=spec.version,
        description=spec.description,
        lifespan=lifespan,
    )
    app.state.internal_token_secret = settings.internal_token_secret.get_secret_value()
    install_problem_handlers(app)
    app.add_middleware(RequestContextMiddleware, service=spec.name)
    app.include_router(_ops_router(spec.name))
    for router in spec.routers:
        app.include_router(router)
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    # No spans per ASGI send/receive message: they cost CPU and say nothing an
    # operator needs beyond the request span.
    FastAPIInstrumentor.instrument_app(
        app, excluded_urls="healthz,readyz,metrics", exclude_spans=["receive", "send"]
    )
    return app


def _scraped_registry() -> CollectorRegistry:
    """This process's registry; with several worker processes, all of theirs summed.

    A launcher that runs a service as several uvicorn workers sets
    `PROMETHEUS_MULTIPROC_DIR` (prometheus_client then keeps every value in a file
    there); a scrape reaches one worker, which reports what the directory holds.
    """
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    registry = CollectorRegistry()
    MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return registry


def _ops_router(service: str) -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": service}

    @router.get("/readyz", include_in_schema=False)
    async def readyz(request: Request) -> Response:
        probes: dict[str, Probe] = getattr(request.app.state, "probes", {})
        results = await run_probes(probes)
        for name, error in results.items():
            DEPENDENCY_UP.labels(service, name).set(0 if error else 1)
        failed = {name: err for name, err in results.items() if err}
        if failed or not probes:
            return problem_response(
                503,
                "Not ready",
                "unreachable: " + ", ".join(sorted(failed)) if failed else "starting",
                type_slug="not-ready",
                extensions={"checks": {n: e or "ok" for n, e in results.items()}},
            )
        return JSONResponse({"status": "ready", "checks": dict.fromkeys(results, "ok")})

    @router.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(_scraped_registry()), media_type=CONTENT_TYPE_LATEST)

    return router
