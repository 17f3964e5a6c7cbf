"""The gateway's front door, as pure ASGI middleware around every route it serves.

For each request: find the route policy, authenticate (API key or bearer token),
authorise (roles for people, scopes for keys), charge the caller's rate limit,
and for a POST with `Idempotency-Key` replay or record the outcome. Only then
does the request reach a route, the gateway's own or the proxy, with the
principal in `request.state.principal`. Refusals are problem+json built here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chorus_platform.problems import ProblemError, problem_response
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chorus_gateway.limits.idempotency import Outcome, StoredResponse, fingerprint
from chorus_gateway.routing.policy import Decision, Rule

if TYPE_CHECKING:
    from chorus_gateway.auth.principal import Principal
    from chorus_gateway.runtime import GatewayRuntime

MAX_IDEMPOTENCY_KEY = 255
# What a replay must not repeat: these describe the current exchange, not the stored one.
_NOT_STORED = ("x-request-id", "date", "server", "content-length", "ratelimit", "retry-after")


class Refusal(Exception):
    """A problem+json answer the guard gives instead of calling the route."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str,
        slug: str,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail, self.slug = status, title, detail, slug
        self.headers = headers
        self.extensions = extensions

    async def send(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem_response(
            self.status,
            self.title,
            self.detail,
            type_slug=self.slug,
            instance=scope["path"],
            extensions=self.extensions,
            headers=self.headers,
        )
        await response(scope, receive, send)


def _forbidden(rule: Rule, decision: Decision) -> Refusal:
    if decision is Decision.NO_ROLE:
        roles = sorted(r.value for r in rule.roles)
        detail = f"requires one of the roles: {', '.join(roles)}" if roles else "not for people"
        return Refusal(403, "Forbidden", detail, "forbidden", required_roles=roles)
    scopes = sorted(rule.scopes)
    detail = f"API key needs one of the scopes: {', '.join(scopes)}" if scopes else "not for keys"
    return Refusal(403, "Forbidden", detail, "forbidden", required_scopes=scopes)


class GatewayGuard:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        runtime: GatewayRuntime | None = None
        if scope["type"] == "http":
            ctx = getattr(scope["app"].state, "ctx", None)
            runtime = ctx.extras.get("gateway") if ctx is not None else None
        if runtime is None:
            await self.app(scope, receive, send)
            return
        try:
            await self._guard(runtime, scope, receive, send)
        except Refusal as refusal:
            await refusal.send(scope, receive, send)

    async def _guard(
        self, runtime: GatewayRuntime, scope: Scope, receive: Receive, send: Send
    ) -> None:
        method, path = scope["method"], scope["path"]
        rule = runtime.policy.match(method, path)
        state = scope.setdefault("state", {})
        if rule is None:
            if runtime.routes.service_for(path) is not None or path.startswith("/v1/directory"):
                raise Refusal(
                    405,
                    "Method not allowed",
                    f"{method} is not allowed on {path}",
                    "method-not-allowed",
                )
            await self.app(scope, receive, send)
            return
        if rule.public:
            state["public"] = True
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        try:
            principal = await runtime.authenticator.authenticate(
                headers.get("authorization"), headers.get("x-api-key")
            )
        except ProblemError as exc:
            challenge = {"www-authenticate": 'Bearer realm="chorus"'} if exc.status == 401 else None
            raise Refusal(exc.status, exc.title, exc.detail, exc.type_slug, challenge) from exc
        decision = rule.decide(principal)
        if decision is not Decision.ALLOW:
            raise _forbidden(rule, decision)
        verdict = await runtime.limiter.check(principal)
        limit_headers = verdict.headers() if verdict is not None else []
        if verdict is not None and not verdict.allowed:
            raise Refusal(
                429,
                "Too many requests",
                f"rate limit of {principal.rate.per_minute} requests per minute",
                "rate-limited",
                {k.decode(): v.decode() for k, v in limit_headers},
            )
        state["principal"] = principal
        send = _with_headers(send, limit_headers)
        key = headers.get("idempotency-key")
        if method == "POST" and key is not None:
            await self._idempotent(runtime, principal, key, scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _idempotent(
        self,
        runtime: GatewayRuntime,
        principal: Principal,
        key: str,
        scope: Scope,
        receive: Receive,
        send: Send,
    ) -> None:
        if not key or len(key) > MAX_IDEMPOTENCY_KEY or not key.isprintable():
            raise Refusal(
                400,
                "Bad request",
                f"Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY} printable chars",
                "invalid-idempotency-key",
            )
        limit = runtime.settings.idempotency_max_body_bytes
        body = await _read_body(receive, limit)
        if body is None:
            raise Refusal(
                413,
                "Request body too large",
                f"an idempotent request body is limited to {limit} bytes",
                "too-large",
            )
        fp = fingerprint(scope["method"], scope["path"], scope.get("query_string", b""), body)
        store = runtime.idempotency
        claim = await store.claim(principal.tenant_id, principal.principal_id, key, fp)
        if claim.outcome is Outcome.MISMATCH:
            raise Refusal(
                422,
                "Idempotency key reused",
                "this Idempotency-Key was used for a different request",
                "idempotency-key-reused",
            )
        if claim.outcome is Outcome.IN_FLIGHT:
            raise Refusal(
                409,
                "Request in progress",
                "a request with this Idempotency-Key is still being processed",
                "idempotency-in-flight",
                {"retry-after": "1"},
            )
        if claim.response is not None:
            await _replay(claim.response, send)
            return
        recorder = _Recorder(send)
        try:
            await self.app(scope, _replaying(body, receive), recorder.send)
        except BaseException:
            await store.release(claim)
            raise
        if recorder.status >= 500:
            await store.release(claim)  # not an outcome: let the client's retry really retry
            return
        await store.complete(claim, fp, recorder.stored())


class _Recorder:
    """Passes the response through while keeping a copy to store."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self.status = 500
        self.headers: list[tuple[str, str]] = []
        self.body = bytearray()

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            for raw_key, raw_value in message.get("headers", []):
                name = raw_key.decode("latin-1")
                if not name.lower().startswith(_NOT_STORED):
                    self.headers.append((name, raw_value.decode("latin-1")))
        elif message["type"] == "http.response.body":
            self.body.extend(message.get("body", b""))
        await self._send(message)

    def stored(self) -> StoredResponse:
        return StoredResponse(self.status, self.headers, bytes(self.body))


def _with_headers(send: Send, extra: list[tuple[bytes, bytes]]) -> Send:
    if not extra:
        return send

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = [*message.get("headers", []), *extra]
        await send(message)

    return sending


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        body.extend(message.get("body", b""))
        if len(body) > limit:
            return None
        if not message.get("more_body", False):
            break
    return bytes(body)


def _replaying(body: bytes, receive: Receive) -> Receive:
    """The body already read, then the real channel (which reports the disconnect)."""
    sent = False

    async def replaying() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replaying


async def _replay(response: StoredResponse, send: Send) -> None:
    headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers]
    headers += [
        (b"content-length", str(len(response.body)).encode()),
        (b"idempotent-replayed", b"true"),
    ]
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": response.body})
