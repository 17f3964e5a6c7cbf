"""Composition root of the gateway service: `uvicorn chorus_gateway.app:app`."""

from __future__ import annotations

from typing import Any

from chorus_platform.app import ServiceSpec, create_service_app
from chorus_platform.migrate import MigrationSet
from fastapi import APIRouter, FastAPI
from fastapi.openapi.utils import get_openapi
from starlette.middleware import Middleware
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from chorus_gateway.auth.api import router as auth_router
from chorus_gateway.directory.api import router as directory_router
from chorus_gateway.guard import GatewayGuard
from chorus_gateway.live.api import router as live_router
from chorus_gateway.openapi.api import ASSETS, DOCS_ASSETS
from chorus_gateway.openapi.api import router as docs_router
from chorus_gateway.routing.fastpath import install_proxy_fast_path
from chorus_gateway.routing.proxy import proxy
from chorus_gateway.runtime import GatewayRuntime
from chorus_gateway.settings import GatewaySettings

SERVICE = "gateway"
GATEWAY_MIGRATIONS = MigrationSet("chorus_gateway", "chorus_gateway")
PROXIED_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
OWN_ROUTERS = [auth_router, directory_router, live_router]
# FastAPI's own docs pages load their assets from a CDN; /v1/docs replaces them.
CDN_DOCS = {"/docs", "/docs/oauth2-redirect", "/redoc"}


def own_openapi() -> dict[str, Any]:
    """The gateway's own routes (directory, login) as an OpenAPI document."""
    routes = [route for router in OWN_ROUTERS for route in router.routes]
    return get_openapi(title="Chorus gateway", version="1.0.0", routes=routes)


def proxy_router() -> APIRouter:
    """Last in line: an unknown /v1 path reaches the proxy, which answers 404."""
    router = APIRouter()
    router.add_route("/v1/{path:path}", proxy, methods=PROXIED_METHODS, include_in_schema=False)
    return router


def service_routes(routes: dict[str, str]) -> list[Route]:
    """One route per service prefix (and everything under it), matched before all others.

    Routing walks the route list in order, and so do the request-metrics and tracing
    middlewares when they name a request's route: with the forwarded paths first, a
    proxied request costs a couple of regex matches instead of a walk past every
    directory route.
    """
    found = []
    for prefix in sorted(routes, key=len, reverse=True):
        base = prefix.rstrip("/")
        for path in (base, base + "/{rest:path}"):
            found.append(Route(path, proxy, methods=PROXIED_METHODS, include_in_schema=False))
    return found


def build_spec(settings: GatewaySettings | None = None) -> ServiceSpec:
    settings = settings or GatewaySettings()
    return ServiceSpec(
        name=SERVICE,
        settings=settings,
        description="The one public API: authentication, tenancy, routing and rate limits.",
        migrations=[GATEWAY_MIGRATIONS],
        routers=[*OWN_ROUTERS, docs_router, proxy_router()],
        workers=[lambda ctx: GatewayRuntime(ctx, settings, own_openapi)],
    )


def create_gateway_app(settings: GatewaySettings | None = None) -> FastAPI:
    return gateway_app(build_spec(settings))


def gateway_app(spec: ServiceSpec) -> FastAPI:
    settings = spec.settings
    assert isinstance(settings, GatewaySettings)
    built = create_service_app(spec)
    built.router.routes[:] = [
        r for r in built.router.routes if getattr(r, "path", "") not in CDN_DOCS
    ]
    # Before the catch-all proxy route, or the proxy would take the asset paths.
    built.router.routes[:0] = [
        Mount(DOCS_ASSETS, StaticFiles(directory=ASSETS)),
        *service_routes(settings.routes),
    ]
    # Innermost of the middlewares: request ids, metrics and tracing (outside) see
    # the guard's refusals too, and the guard runs before any route.
    built.user_middleware.append(Middleware(GatewayGuard))
    # Forwarded paths skip all of the above but the guard and the proxy (see fastpath).
    install_proxy_fast_path(built, SERVICE, trace_ratio=settings.proxy_trace_ratio)
    return built


spec = build_spec()
app = gateway_app(spec)
