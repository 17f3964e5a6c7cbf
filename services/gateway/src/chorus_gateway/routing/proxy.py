"""The catch-all route: `/v1/...` and `/l/...` forwarded to the service that owns the path.

By the time a request gets here the guard has authenticated and authorised it
(or marked it public); this module only translates between the caller and the
service: identity token, request id and trace context in, safe headers out.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import aiohttp
from chorus_platform.identity import IDENTITY_HEADER
from chorus_platform.observability.logging import request_id_var
from chorus_platform.problems import NotFound, ProblemError
from opentelemetry import propagate, trace
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from chorus_gateway.routing.headers import request_headers, response_headers
from chorus_gateway.routing.upstream import BUFFER_LIMIT, UpstreamRequest, failure

if TYPE_CHECKING:
    from chorus_gateway.runtime import GatewayRuntime

_IDENTITY = IDENTITY_HEADER.lower()


class MethodNotAllowed(ProblemError):
    status, type_slug, title = 405, "method-not-allowed", "Method not allowed"


async def _body(request: Request) -> bytes | AsyncIterator[bytes]:
    """The whole body when it is small and sized, else a stream of its chunks."""
    size = request.headers.get("content-length")
    if request.method in {"GET", "HEAD", "DELETE", "OPTIONS"} and size is None:
        return b""
    if size is not None and size.isdigit() and int(size) <= BUFFER_LIMIT:
        return await request.body()
    return request.stream()


def _outgoing_headers(request: Request, token: str | None) -> list[tuple[str, str]]:
    headers = request_headers(request.scope["headers"])
    if token is not None:
        headers.append((_IDENTITY, token))
    request_id = request_id_var.get()
    if request_id:
        headers.append(("x-request-id", request_id))
    # One X-Forwarded-For, the caller's address last: a service behind a trusting proxy
    # layer (uvicorn's proxy headers) takes the right-most hop it does not trust.
    hops = [h for h in [request.headers.get("x-forwarded-for")] if h]
    if request.client:
        hops.append(request.client.host)
    if hops:
        headers.append(("x-forwarded-for", ", ".join(hops)))
    # The gateway's server span becomes the parent of the service's, when tracing is on;
    # otherwise the caller's own traceparent (kept above) passes through unchanged.
    if not trace.get_current_span().get_span_context().is_valid:
        return headers  # nothing to inject (and asking the propagators costs)
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    if carrier:
        headers = [(k, v) for k, v in headers if k not in ("traceparent", "tracestate")]
        headers += list(carrier.items())
    return headers


async def proxy(request: Request) -> Response:
    runtime: GatewayRuntime = request.app.state.ctx.extras["gateway"]
    path = request.url.path
    service = runtime.routes.service_for(path)
    if service is None:
        raise NotFound(f"no route for {path}")
    principal = getattr(request.state, "principal", None)
    if principal is None and not getattr(request.state, "public", False):
        raise MethodNotAllowed(f"{request.method} is not allowed on {path}")
    token = runtime.minter.token_for(principal) if principal is not None else None
    body = await _body(request)
    # Forward the path as the client encoded it: decoding and re-encoding could change
    # what the service routes on (and a decoded control character is not a valid URL).
    raw_path: bytes = request.scope.get("raw_path") or path.encode()
    upstream = await runtime.upstreams.send(
        UpstreamRequest(
            service=service,
            method=request.method,
            path=raw_path.decode("latin-1"),
            query=request.scope.get("query_string", b""),
            headers=_outgoing_headers(request, token),
            body=body,
        )
    )
    return await _relay(upstream, service)


async def _relay(upstream: aiohttp.ClientResponse, service: str) -> Response:
    headers = response_headers(upstream.raw_headers)
    length = upstream.content_length
    if length is not None and length <= BUFFER_LIMIT:
        try:
            content = await upstream.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise failure(service, exc) from exc
        finally:
            upstream.release()
        response = Response(content, status_code=upstream.status)
        sized = [(k, v) for k, v in headers if k.lower() != b"content-length"]
        response.raw_headers = [*sized, (b"content-length", str(len(content)).encode())]
        return response
    streamed = StreamingResponse(
        upstream.content.iter_any(),
        status_code=upstream.status,
        background=BackgroundTask(upstream.release),
    )
    streamed.raw_headers = headers
    return streamed
