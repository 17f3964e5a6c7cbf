"""Forwarded requests answered in front of the FastAPI stack: guard, proxy, done.

Why: nearly every gateway request is forwarded to a service, and the generic
stack around a route (FastAPI's own telemetry hook, the error middleware, the
OpenTelemetry ASGI middleware with its spans, the body limit, the request
context middleware, routing, the exception middleware) cost the gateway more
CPU per request than authenticating, rate limiting and forwarding together
(`bench/gateway_overhead.py`, same run conditions: 3.4 ms of gateway CPU per
forwarded leaderboard read through the stack, 2.0 ms on this path). This path
does for a forwarded path what those layers did:

* the same guard (`GatewayGuard`: policy, authentication, rate limit,
  idempotency) and the same proxy (`routing.proxy.proxy`), so behaviour and
  problem+json answers are the routes' own;
* the `x-request-id` header and context, and the platform's HTTP metrics
  (`chorus_http_requests_total`, the latency histogram) labelled with the same
  route template the router would match (`/v1/rewards/{rest:path}`);
* a SERVER span, parent of the service's, for requests that carry a
  `traceparent` and for a sample of the others (`proxy_trace_ratio`).

Everything else (the gateway's own routes, docs, unknown prefixes, odd methods)
goes through the normal stack. Installed like the OpenTelemetry instrumentation,
by wrapping the app's `build_middleware_stack`, so the app stays a FastAPI app.
"""

from __future__ import annotations

import logging
import re
import time
import types
import uuid
from typing import TYPE_CHECKING

from chorus_platform.observability.fast_path import FastPathTelemetry
from chorus_platform.observability.logging import request_id_var
from chorus_platform.problems import ProblemError, problem_response
from fastapi import FastAPI
from opentelemetry.trace import Status, StatusCode
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chorus_gateway.guard import GatewayGuard
from chorus_gateway.routing.proxy import proxy

if TYPE_CHECKING:
    from chorus_gateway.runtime import GatewayRuntime

log = logging.getLogger(__name__)
FORWARDED_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_REQUEST_ID = b"x-request-id"


async def _forward(scope: Scope, receive: Receive, send: Send) -> None:
    """The proxy route as a plain ASGI app (behind the guard)."""
    try:
        response = await proxy(Request(scope, receive))
    except ProblemError as exc:
        response = problem_response(
            exc.status, exc.title, exc.detail, type_slug=exc.type_slug,
            instance=scope["path"], extensions=exc.extensions, headers=exc.headers or None,
        )  # fmt: skip
    await response(scope, receive, send)


class ProxyFastPath:
    def __init__(
        self, app: ASGIApp, *, service: str, fastapi_app: FastAPI, trace_ratio: float
    ) -> None:
        self.app = app
        self.fastapi_app = fastapi_app
        self.service = service
        self.guarded = GatewayGuard(_forward)
        self.telemetry = FastPathTelemetry(
            service, trace_ratio=trace_ratio, tracer_name="chorus_gateway.proxy"
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in FORWARDED_METHODS:
            await self.app(scope, receive, send)
            return
        ctx = getattr(self.fastapi_app.state, "ctx", None)
        runtime: GatewayRuntime | None = ctx.extras.get("gateway") if ctx is not None else None
        route = _route_template(runtime, scope["path"]) if runtime is not None else None
        if route is None:
            await self.app(scope, receive, send)
            return
        await self._handle(route, scope, receive, send)

    async def _handle(self, route: str, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        method: str = scope["method"]
        headers = dict(scope["headers"])
        given = headers.get(_REQUEST_ID, b"").decode("latin-1")
        request_id = given if _VALID_REQUEST_ID.match(given) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
                message["headers"] = [
                    *message.get("headers", []),
                    (_REQUEST_ID, request_id.encode("latin-1")),
                ]
            await send(message)

        try:
            with self.telemetry.span(method, route, headers, scope.get("server")) as span:
                try:
                    await self.guarded(scope, receive, send_with_id)
                except Exception as exc:
                    log.exception("unhandled error on %s %s", method, scope["path"])
                    span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
                    if response_started:
                        raise
                    await problem_response(
                        500, "Internal error", "The request could not be completed.",
                        type_slug="internal", headers={"x-request-id": request_id},
                    )(scope, receive, send)  # fmt: skip
                span.set_attribute("http.response.status_code", status)
        finally:
            self.telemetry.requests(method, route, status).inc()
            self.telemetry.latency(method, route).observe(time.perf_counter() - started)
            request_id_var.reset(token)


def _route_template(runtime: GatewayRuntime, path: str) -> str | None:
    """The forwarded-prefix route (as `app.service_routes` names it) that `path` falls in."""
    for prefix, _service in runtime.routes.prefixes:
        if path == prefix:
            return prefix
        if path.startswith(prefix + "/"):
            return prefix + "/{rest:path}"
    return None


def install_proxy_fast_path(app: FastAPI, service: str, *, trace_ratio: float) -> None:
    """Put `ProxyFastPath` outermost in `app`'s middleware stack (see module docstring)."""
    build = app.build_middleware_stack

    def build_with_fast_path(self: FastAPI) -> ASGIApp:
        return ProxyFastPath(build(), service=service, fastapi_app=self, trace_ratio=trace_ratio)

    app.build_middleware_stack = types.MethodType(build_with_fast_path, app)  # type: ignore[method-assign]
