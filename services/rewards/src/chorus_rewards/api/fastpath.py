"""The two leaderboard reads answered in front of the FastAPI stack.

Why: a leaderboard read is one Redis command, yet through the generic stack (the
OpenTelemetry ASGI middleware and FastAPI instrumentation, the request context
middleware, routing, dependency solving, parameter validation) it cost ~2 ms of
service CPU, ten times the read. This path does the same job for the well-formed
requests of `GET /v1/rewards/leaderboards/{metric}` and
`GET /v1/rewards/leaderboards/{metric}/advocates/{advocate_id}`:

* the same authentication (`chorus_platform.identity.authenticate`, what the routes'
  `CurrentIdentity` runs: 401 problem+json), the same use cases
  (`Leaderboards.top/standing`: tenant-scoped by the verified identity, 403/422
  problems) and the same response bodies (`page_body` / `standing_body`);
* the platform's HTTP metrics labelled with the routes' templates, the
  `x-request-id` header and logging context, as `RequestContextMiddleware` does;
* a SERVER span for requests carrying a `traceparent` (the gateway forwards one
  when its own span is recorded) and for a sample of the others.

Anything this path does not recognise as valid (another method or path, an unknown
enum value, an out-of-range or repeated parameter, a `root_path`) goes to the
normal stack, which answers it (and its 422s) as before. Installed like sharing's
redirect fast path: by wrapping the app's `build_middleware_stack`.
"""

from __future__ import annotations

import logging
import re
import time
import types
import uuid

from chorus_platform.identity import IDENTITY_HEADER, authenticate
from chorus_platform.observability.fast_path import FastPathTelemetry
from chorus_platform.observability.logging import request_id_var
from chorus_platform.problems import ProblemError, problem_response
from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.trace import Status, StatusCode
from starlette.types import ASGIApp, Receive, Scope, Send

from chorus_rewards.api.deps import is_admin
from chorus_rewards.api.leaderboards import board_query, page_body, standing_body
from chorus_rewards.api.read_params import BoardRead, parse_read
from chorus_rewards.runtime import EXTRAS_KEY, RewardsRuntime

log = logging.getLogger(__name__)
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_REQUEST_ID = b"x-request-id"
_IDENTITY = IDENTITY_HEADER.lower().encode("latin-1")
_JSON_HEADERS = [(b"content-type", b"application/json")]


class LeaderboardFastPath:
    def __init__(
        self, app: ASGIApp, *, service: str, fastapi_app: FastAPI, trace_ratio: float
    ) -> None:
        self.app = app
        self.fastapi_app = fastapi_app
        self.service = service
        self.telemetry = FastPathTelemetry(
            service, trace_ratio=trace_ratio, tracer_name="chorus_rewards.leaderboards"
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        read = parse_read(scope) if scope["type"] == "http" else None
        ctx = getattr(self.fastapi_app.state, "ctx", None) if read is not None else None
        runtime: RewardsRuntime | None = ctx.extras.get(EXTRAS_KEY) if ctx is not None else None
        if read is None or runtime is None:
            await self.app(scope, receive, send)
            return
        await self._read(runtime, read, scope, receive, send)

    async def _read(
        self, runtime: RewardsRuntime, read: BoardRead, scope: Scope, receive: Receive, send: Send
    ) -> None:
        started = time.perf_counter()
        headers = dict(scope["headers"])
        given = headers.get(_REQUEST_ID, b"").decode("latin-1")
        request_id = given if _VALID_REQUEST_ID.match(given) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        status = 500
        try:
            with self.telemetry.span("GET", read.route, headers) as span:
                try:
                    body = await self._answer(runtime, read, headers)
                except ProblemError as exc:
                    status = exc.status
                    span.set_attribute("http.response.status_code", status)
                    await problem_response(
                        exc.status, exc.title, exc.detail, type_slug=exc.type_slug,
                        instance=scope["path"], extensions=exc.extensions,
                        headers={**exc.headers, "x-request-id": request_id},
                    )(scope, receive, send)  # fmt: skip
                    return
                status = 200
                span.set_attribute("http.response.status_code", 200)
                await send(
                    {
                        "type": "http.response.start",
                        "status": 200,
                        "headers": [
                            *_JSON_HEADERS,
                            (b"content-length", str(len(body)).encode("latin-1")),
                            (_REQUEST_ID, request_id.encode("latin-1")),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})
        except Exception as exc:
            log.exception("unhandled error on GET %s", scope["path"])
            trace.get_current_span().set_status(Status(StatusCode.ERROR, type(exc).__name__))
            if status == 500:
                await problem_response(
                    500, "Internal error", "The request could not be completed.",
                    type_slug="internal", headers={"x-request-id": request_id},
                )(scope, receive, send)  # fmt: skip
        finally:
            self.telemetry.requests("GET", read.route, status).inc()
            self.telemetry.latency("GET", read.route).observe(time.perf_counter() - started)
            request_id_var.reset(token)

    async def _answer(
        self, runtime: RewardsRuntime, read: BoardRead, headers: dict[bytes, bytes]
    ) -> bytes:
        """What the route functions do, given the parsed request (ProblemError on refusal)."""
        raw = headers.get(_IDENTITY)
        identity = authenticate(
            raw.decode("latin-1") if raw is not None else None,
            self.fastapi_app.state.internal_token_secret,
        )
        q = board_query(read.metric, read.scope, read.scope_id, read.period, read.on)
        boards = runtime.leaderboards
        if read.advocate_id is None:
            limit = min(read.limit, runtime.settings.leaderboard_max_limit)
            page = await boards.top(identity, q, limit, read.offset, is_admin(identity))
            return page_body(page)
        found = await boards.standing(
            identity, q, read.advocate_id, read.window, is_admin(identity)
        )
        return standing_body(found)


def install_leaderboard_fast_path(app: FastAPI, service: str, *, trace_ratio: float) -> None:
    """Put `LeaderboardFastPath` outermost in `app`'s middleware stack (module docstring)."""
    build = app.build_middleware_stack

    def build_with_fast_path(self: FastAPI) -> ASGIApp:
        return LeaderboardFastPath(
            build(), service=service, fastapi_app=self, trace_ratio=trace_ratio
        )

    app.build_middleware_stack = types.MethodType(build_with_fast_path, app)  # type: ignore[method-assign]
