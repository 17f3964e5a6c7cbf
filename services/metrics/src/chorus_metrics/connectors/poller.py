"""The poller: asks a connector for the totals of every registered post, periodically.

Observations go to the outbox as `engagement.reported` (one transaction per
round), so they reach ingestion through the same topic and rules as webhook
pushes. A failing network costs a round, never an observation already written.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import asyncpg
import httpx
from chorus_events.contracts import ENGAGEMENT_REPORTED
from chorus_events.outbox import append_events
from chorus_platform.app import ServiceContext, Worker, WorkerFactory
from chorus_platform.failures import report_loop_failure

from chorus_metrics.connectors.base import AnalyticsConnector, ConnectorError, TrackedPost
from chorus_metrics.connectors.linkedin import LinkedInMemberAnalytics
from chorus_metrics.ingest.reported_repository import post_refs
from chorus_metrics.settings import MetricsSettings

log = logging.getLogger(__name__)
SOURCE = "/chorus/metrics"


class ConnectorPoller:
    def __init__(
        self,
        pool: asyncpg.Pool,
        connector: AnalyticsConnector,
        *,
        interval: float,
        on_stop: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        """`on_stop` releases what the connector holds (its HTTP client)."""
        self.pool = pool
        self.connector = connector
        self.interval = interval
        self._on_stop = on_stop
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def poll_once(self) -> int:
        """Fetch every registered post's totals; return how many observations were queued."""
        async with self.pool.acquire() as conn:
            refs = await post_refs(conn, self.connector.network.value)
        posts = [TrackedPost(t, s, ref) for t, s, ref in refs]
        if not posts:
            return 0
        observations = await self.connector.fetch(posts, datetime.now(UTC))
        async with self.pool.acquire() as conn, conn.transaction():
            await append_events(conn, ENGAGEMENT_REPORTED, observations, source=SOURCE)
        return len(observations)

    async def start(self) -> None:
        self._stopping.clear()
        self._task = asyncio.create_task(self._run(), name=f"poll-{self.connector.source}")

    async def stop(self) -> None:
        self._stopping.set()
        if self._task is not None:
            await self._task
            self._task = None
        if self._on_stop is not None:
            await self._on_stop()

    async def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                await self.poll_once()
            except ConnectorError as exc:
                log.warning("%s poll failed: %s", self.connector.source, exc)
            except Exception as exc:
                report_loop_failure(log, f"{self.connector.source} poll", exc, self.interval)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.interval)


def linkedin_poller(settings: MetricsSettings) -> WorkerFactory:
    def build(ctx: ServiceContext) -> Worker:
        client = httpx.AsyncClient(
            base_url=settings.linkedin_api_base, timeout=settings.linkedin_timeout
        )
        connector = LinkedInMemberAnalytics(
            client,
            token=settings.linkedin_access_token.get_secret_value(),
            version=settings.linkedin_version,
        )
        return ConnectorPoller(
            ctx.pool, connector, interval=settings.linkedin_poll_interval, on_stop=client.aclose
        )

    return build
