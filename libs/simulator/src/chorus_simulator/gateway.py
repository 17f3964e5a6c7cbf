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


class Gateway:
    """A pooled client; `call` raises `ApiError` for an unexpected status and retries
    what the gateway says is temporary (429 with Retry-After, 503)."""

    def __init__(self, base_url: str, *, concurrency: int = 16, timeout: float = 60.0) -> None:
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
        for attempt in range(8):
            response = await self.http.request(
                method, path, headers=headers, json=json, params=params
            )
            if response.status_code in (429, 503) and attempt < 7:
                await asyncio.sleep(float(response.headers.get("retry-after", "0.5") or 0.5))
                continue
            if response.status_code not in expect:
                raise ApiError(response, f"{method} {path}")
            return response.json() if response.content else None
        raise AssertionError("unreachable")

    async def login(self, tenant_id: str, email: str, password: str) -> Headers:
        body = {"tenant_id": tenant_id, "email": email, "password": password}
        token = await self.call("POST", "/v1/auth/login", headers={}, json=body, expect=(200,))
        return {"Authorization": f"Bearer {token['access_token']}"}

    async def click(self, code: str, address: str, user_agent: str) -> int:
        """A visitor following a tracked link: the redirect's status (302 expected)."""
        response = await self.http.get(
            f"/l/{code}", headers={"user-agent": user_agent, "x-forwarded-for": address}
        )
        return response.status_code
