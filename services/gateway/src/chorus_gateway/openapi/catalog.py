"""Keeps the merged OpenAPI document current: fetched at start-up, then refreshed.

A service that is not up yet is retried with a doubling delay (its paths are missing
from the document until then); once all answered, every `refresh_seconds`. The
document is rebuilt only when a service's document changed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

import httpx

from chorus_gateway.openapi.merge import merge
from chorus_gateway.routing.policy import Policy
from chorus_gateway.routing.table import RouteTable

log = logging.getLogger(__name__)
FIRST_RETRY_SECONDS = 2.0
API_VERSION = "1.0.0"


class OpenApiCatalog:
    def __init__(
        self,
        client: httpx.AsyncClient,
        routes: RouteTable,
        policy: Policy,
        gateway_doc: Callable[[], dict[str, Any]],
        server_url: str,
        refresh_seconds: float,
    ) -> None:
        self.client = client
        self.routes = routes
        self.policy = policy
        self.gateway_doc = gateway_doc
        self.server_url = server_url
        self.refresh_seconds = refresh_seconds
        self.service_docs: dict[str, dict[str, Any]] = {}
        self.document: dict[str, Any] = {}
        self._own: dict[str, Any] | None = None
        self._task: asyncio.Task[None] | None = None

    def services(self) -> list[str]:
        return sorted({service for _, service in self.routes.prefixes})

    async def refresh(self) -> bool:
        """Fetch every service's document; True when all answered."""
        complete, changed = True, False
        for service in self.services():
            url = f"{self.routes.upstreams[service].rstrip('/')}/openapi.json"
            try:
                answer = await self.client.get(url)
                answer.raise_for_status()
                fetched = answer.json()
            except (httpx.HTTPError, ValueError) as exc:
                complete = False
                log.info("OpenAPI of %s not available yet: %s", service, exc)
                continue
            changed = changed or self.service_docs.get(service) != fetched
            self.service_docs[service] = fetched
        if changed or not self.document:
            self.rebuild()
        return complete

    def rebuild(self) -> None:
        if self._own is None:  # the gateway's own routes never change while it runs
            self._own = self.gateway_doc()
        self.document = merge(
            self._own,
            self.service_docs,
            lambda service, path: self.routes.service_for(path) == service,
            self.policy,
            title="Chorus API",
            version=API_VERSION,
            server_url=self.server_url,
        )

    async def _run(self) -> None:
        retry = FIRST_RETRY_SECONDS
        while True:
            if await self.refresh():
                retry = FIRST_RETRY_SECONDS
                await asyncio.sleep(self.refresh_seconds)
            else:  # a service still starting, or down: back off up to the refresh interval
                await asyncio.sleep(retry)
                retry = min(retry * 2, self.refresh_seconds)

    async def start(self) -> None:
        self.rebuild()
        self._task = asyncio.create_task(self._run(), name="openapi-refresh")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
