"""The gateway's public API, as the simulator uses it."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

Headers = dict[str, str]


class ApiError(RuntimeError):
    def __init__(self, response: httpx.Response, what: str) -> None:
        super().__init__(f"{what}: {response.status_code} {response.text[:500]}")
        self.status = response.status_code


TRANSIENT = frozenset({429, 502, 503, 504})
"""Statuses a client retries: rate limited, or a service (or the gateway) briefly away."""


class Gateway:
    """A pooled client; `call` raises `ApiError` for an unexpected status and retries
    what is temporary (429 with Retry-After, 502/503/504, a refused or dropped
    connection) for up to `patience` seconds, as a well-behaved integration would.

    Only idempotent requests may be retried blindly; the simulator's POSTs are either
    idempotent by design (engagement items carry their source event id) or made when
    no fault is being injected.
    """

    def __init__(
        self,
        base_url: str,
        *,
        concurrency: int = 16,
        timeout: float = 60.0,
        patience: float = 180.0,
    ) -> None:
        self.patience = patience
        limits = httpx.Limits(
            max_connections=concurrency * 2, max_keepalive_connections=concurrency
        )
        self.base_url = base_url
        self.http = httpx.AsyncClient(base_url=base_url, timeout=timeout, limits=limits)

    async def close(self) -> None:
        await self.http.aclose()

    async def call(
        self,
        method: str,
        path: str,
        *,
        headers: Headers,
        expect: tuple[int, ...] = (200, 201),
        json: Any = None,
        params: dict[str, Any] | None = None,
    ) -> Any:
        loop = asyncio.get_running_loop()
        give_up = loop.time() + self.patience
        delay = 0.1
        while True:
            try:
                response = await self.http.request(
                    method, path, headers=headers, json=json, params=params
                )
            except httpx.TransportError:
                if loop.time() > give_up:
                    raise
            else:
                if response.status_code in expect:
                    return response.json() if response.content else None
                if response.status_code not in TRANSIENT or loop.time() > give_up:
                    raise ApiError(response, f"{method} {path}")
                delay = max(delay, float(response.headers.get("retry-after", "0") or 0))
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)

    async def login(self, tenant_id: str, email: str, password: str) -> Headers:
        body = {"tenant_id": tenant_id, "email": email, "password": password}
        token = await self.call("POST", "/v1/auth/login", headers={}, json=body, expect=(200,))
        return {"Authorization": f"Bearer {token['access_token']}"}

    async def click(self, code: str, address: str, user_agent: str) -> tuple[int, int]:
        """A visitor following a tracked link, retrying (as people do) until it
        redirects or `patience` runs out: (final status, attempts)."""
        loop = asyncio.get_running_loop()
        give_up = loop.time() + self.patience
        headers = {"user-agent": user_agent, "x-forwarded-for": address}
        attempts, delay = 0, 0.1
        while True:
            attempts += 1
            try:
                response = await self.http.get(f"/l/{code}", headers=headers)
            except httpx.TransportError:
                status = 0
            else:
                status = response.status_code
            if (status not in TRANSIENT and status != 0) or loop.time() > give_up:
                return status, attempts
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)
