"""The redirect's fast path: `GET /l/{code}` answered in front of the FastAPI stack.

Why: the redirect is the one public, high-volume endpoint (≥ 2,000/s per worker
is the target). Through FastAPI's routing, dependency solving and the generic
ASGI tracing middleware (three spans per request) it costs about 1.5 ms of CPU
before any work is done; this path does the same job in a fraction of that:

* the same use case (`RedirectService.follow`) and the same problem+json errors;
* the platform's HTTP metrics (`chorus_http_requests_total` and the latency
  histogram, route label `/l/{code}`) and the `x-request-id` header, as
  `RequestContextMiddleware` would;
* a SERVER span for redirects whose request carries a `traceparent` and for a
  sample of the others (`redirect_trace_ratio`): recording a span costs more
  than the rest of the redirect, and at this volume a sample tells as much.
  The click event of a traced redirect carries that span's `traceparent`.

A `HEAD` (link checkers, some previewers) gets the same 302 but records no click:
nobody was sent anywhere. Anything that is not a `GET`/`HEAD` of a code-shaped
`/l/...` path falls through
to the normal stack, whose `/l/{code}` route documents the endpoint in OpenAPI
and answers the odd cases (e.g. `/l/https://evil` → 404) the usual way.

Installed in front of FastAPI's own entry (`RedirectFrontedApp`, a FastAPI
subclass, so uvicorn, tests and the devstack use the app unchanged): FastAPI's
`__call__` wraps every request in its native-telemetry layer and walks the
middleware stack looking for OpenTelemetry's instrumentation, ~15 µs per
redirect measured in process (of ~60 µs for the whole fast path without the
click), for nothing a redirect needs: it traces itself, and with the
instrumentation installed FastAPI's layer records nothing anyway.
"""

from __future__ import annotations

import functools
import logging
import random
import re
import time
import uuid
from contextlib import AbstractContextManager, nullcontext

from chorus_platform.metrics import HTTP_LATENCY, HTTP_REQUESTS
from chorus_platform.observability.logging import request_id_var
from chorus_platform.problems import ProblemError, problem_response
from fastapi import FastAPI
from opentelemetry import propagate, trace
from opentelemetry.trace import INVALID_SPAN, Span, SpanKind, Status, StatusCode
from prometheus_client import Counter
from starlette.types import ASGIApp, Receive, Scope, Send

from chorus_sharing.links import is_link_code
from chorus_sharing.metrics import REDIRECTS
from chorus_sharing.redirect import LinkNotFound, Visitor
from chorus_sharing.runtime import EXTRAS_KEY, SharingRuntime

log = logging.getLogger(__name__)
ROUTE = "/l/{code}"
PREFIX = "/l/"
_TRACER = trace.get_tracer("chorus_sharing.redirect")
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
# no-store: a cached redirect would send the visitor on without us counting the click.
_FIXED_HEADERS = [(b"cache-control", b"no-store"), (b"content-length", b"0")]
_REDIRECTED = REDIRECTS.labels("redirected")
_NOT_FOUND = REDIRECTS.labels("not_found")
_UNRECORDED = REDIRECTS.labels("unrecorded")


class RedirectFastPath:
    def __init__(
        self, app: ASGIApp, *, service: str, fastapi_app: FastAPI, trace_ratio: float
    ) -> None:
        self.app = app
        self.fastapi_app = fastapi_app
        self.trace_ratio = trace_ratio
        self._latency = {m: HTTP_LATENCY.labels(service, m, ROUTE) for m in ("GET", "HEAD")}
        self._service = service
        self._counters: dict[tuple[str, int], Counter] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PREFIX):
            await self.app(scope, receive, send)
            return
        code: str = scope["path"][len(PREFIX) :]
        method: str = scope["method"]
        runtime: SharingRuntime | None = (
            self.fastapi_app.state.ctx.extras.get(EXTRAS_KEY)
            if hasattr(self.fastapi_app.state, "ctx")
            else None
        )
        if method not in ("GET", "HEAD") or not is_link_code(code) or runtime is None:
            await self.app(scope, receive, send)
            return
        await self._redirect(runtime, code, method, scope, receive, send)

    async def _redirect(
        self,
        runtime: SharingRuntime,
        code: str,
        method: str,
        scope: Scope,
        receive: Receive,
        send: Send,
    ) -> None:
        started = time.perf_counter()
        headers = dict(scope["headers"])
        given = headers.get(b"x-request-id", b"").decode("latin-1")
        request_id = given if _VALID_REQUEST_ID.match(given) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        client = scope.get("client")
        visitor = Visitor(
            ip=client[0] if client else None,
            user_agent=_text(headers.get(b"user-agent")),
            referrer=_text(headers.get(b"referer")),
        )
        status = 500
        try:
            with self._span(method, headers) as span:
                try:
                    destination = (
                        await runtime.redirects.follow(code, visitor)
                        if method == "GET"
                        else await runtime.redirects.destination(code)
                    )
                except ProblemError as exc:
                    status = exc.status
                    (_NOT_FOUND if isinstance(exc, LinkNotFound) else _UNRECORDED).inc()
                    span.set_attribute("http.response.status_code", status)
                    response = problem_response(
                        exc.status, exc.title, exc.detail, type_slug=exc.type_slug,
                        instance=scope["path"], extensions=exc.extensions,
                        headers={"x-request-id": request_id},
                    )  # fmt: skip
                    await response(scope, receive, send)
                    return
                status = 302
                _REDIRECTED.inc()
                span.set_attribute("http.response.status_code", 302)
                await send(
                    {
                        "type": "http.response.start",
                        "status": 302,
                        # Only ever the stored destination (validated http(s) URL).
                        "headers": [
                            (b"location", destination.encode("latin-1")),
                            (b"x-request-id", request_id.encode("latin-1")),
                            *_FIXED_HEADERS,
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": b""})
        except Exception as exc:
            log.exception("redirect failed")
            trace.get_current_span().set_status(Status(StatusCode.ERROR, type(exc).__name__))
            if status == 500:
                await problem_response(500, "Internal error", type_slug="internal")(
                    scope, receive, send
                )
        finally:
            self._requests(method, status).inc()
            self._latency[method].observe(time.perf_counter() - started)
            request_id_var.reset(token)

    def _requests(self, method: str, status: int) -> Counter:
        key = (method, status)
        counter = self._counters.get(key)
        if counter is None:
            counter = HTTP_REQUESTS.labels(self._service, method, ROUTE, str(status))
            self._counters[key] = counter
        return counter

    def _span(self, method: str, headers: dict[bytes, bytes]) -> AbstractContextManager[Span]:
        traceparent = headers.get(b"traceparent")
        if traceparent is None and random.random() >= self.trace_ratio:
            return nullcontext(INVALID_SPAN)
        parent = (
            propagate.extract({"traceparent": traceparent.decode("latin-1")})
            if traceparent is not None
            else None
        )
        return _TRACER.start_as_current_span(
            f"{method} {ROUTE}",
            context=parent,
            kind=SpanKind.SERVER,
            attributes={"http.request.method": method, "http.route": ROUTE},
        )


def _text(raw: bytes | None) -> str | None:
    return raw.decode("latin-1") if raw else None


class RedirectFrontedApp(FastAPI):
    """A FastAPI app whose redirects `install_redirect_fast_path` answers first."""

    fast_path: RedirectFastPath | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.fast_path is None:
            await super().__call__(scope, receive, send)
        else:
            await self.fast_path(scope, receive, send)


def install_redirect_fast_path(
    app: RedirectFrontedApp, service: str, *, trace_ratio: float
) -> None:
    """Answer `app`'s redirects before FastAPI's entry (see module docstring); every
    other request (and every redirect the fast path does not take) goes on to it."""
    app.fast_path = RedirectFastPath(
        functools.partial(FastAPI.__call__, app),
        service=service, fastapi_app=app, trace_ratio=trace_ratio,
    )  # fmt: skip
