"""Forwarding a request to a service: one pooled HTTP/1.1 client, timeouts, safe retries.

Only idempotent methods are retried, and only when the connection could not be
opened (nothing reached the service, so nothing can happen twice). Transport
failures become problem+json: 503 when the service cannot be reached, 504 when
it did not answer in time, 502 when it answered with something that is not HTTP.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
from chorus_platform.problems import ProblemError

log = logging.getLogger(__name__)

IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
# Bodies up to this size are read whole (one write upstream, a plain response back);
# larger or unsized ones stream through without being held in memory.
BUFFER_LIMIT = 256 * 1024
RETRY_BACKOFF_SECONDS = 0.05


class UpstreamUnavailable(ProblemError):
    status, type_slug, title = 503, "upstream-unavailable", "Service unavailable"


class UpstreamTimeout(ProblemError):
    status, type_slug, title = 504, "upstream-timeout", "Service timed out"


class BadUpstream(ProblemError):
    status, type_slug, title = 502, "bad-gateway", "Bad gateway"


@dataclass(frozen=True)
class UpstreamRequest:
    service: str
    method: str
    path: str
    query: bytes
    headers: list[tuple[bytes, bytes]]
    body: bytes | AsyncIterator[bytes]


def new_client(
    connect_timeout: float, read_timeout: float, max_connections: int
) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        http1=True,
        http2=False,
        timeout=httpx.Timeout(read_timeout, connect=connect_timeout, pool=connect_timeout),
        limits=httpx.Limits(
            max_connections=max_connections, max_keepalive_connections=max_connections
        ),
        follow_redirects=False,
        trust_env=False,
    )


class Upstreams:
    def __init__(self, client: httpx.AsyncClient, urls: dict[str, str], retries: int) -> None:
        self.client = client
        self.urls = {name: url.rstrip("/") for name, url in urls.items()}
        self.retries = retries

    async def send(self, request: UpstreamRequest) -> httpx.Response:
        """The service's response, its body not yet read (the caller closes it)."""
        base = self.urls[request.service]
        try:
            url = httpx.URL(base + request.path, query=request.query)
        except httpx.InvalidURL as exc:
            raise ProblemError(f"the request path cannot be forwarded: {exc}") from exc
        retry = request.method in IDEMPOTENT and isinstance(request.body, bytes)
        attempts = self.retries + 1 if retry else 1
        for attempt in range(attempts):
            outgoing = self.client.build_request(
                request.method, url, headers=request.headers, content=request.body
            )
            try:
                return await self.client.send(outgoing, stream=True)
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
                if attempt + 1 < attempts:
                    await asyncio.sleep(RETRY_BACKOFF_SECONDS * (attempt + 1))
                    continue
                log.warning("%s unreachable: %r", request.service, exc)
                raise UpstreamUnavailable(
                    f"the {request.service} service cannot be reached", service=request.service
                ) from exc
            except httpx.TimeoutException as exc:
                raise UpstreamTimeout(
                    f"the {request.service} service did not answer in time",
                    service=request.service,
                ) from exc
            except httpx.HTTPError as exc:
                log.warning("%s failed: %r", request.service, exc)
                raise BadUpstream(
                    f"the {request.service} service gave no valid answer", service=request.service
                ) from exc
        raise AssertionError("unreachable")  # the loop returns or raises
