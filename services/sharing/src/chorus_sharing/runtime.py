"""The running service's object graph, built when the lifespan starts (composition).

A `Worker` so the app's lifespan owns it: `start()` builds the use cases on the
live pool and opens the HTTP clients and the click recorder; `stop()` closes them
after every other worker stopped (it is started first, so stopped last).
"""

from __future__ import annotations

import httpx
from chorus_events.contracts.base import Network
from chorus_events.contracts.registry import CLICK_RECORDED
from chorus_events.workers import topic_partitions
from chorus_platform.app import ServiceContext

from chorus_sharing.clicks import (
    ClickRecorder,
    FallbackClickRecorder,
    KafkaClickRecorder,
    OutboxClickRecorder,
    click_publisher,
)
from chorus_sharing.connectors import NetworkConnector
from chorus_sharing.connectors.linkedin import LinkedInMemberConnector, linkedin_client
from chorus_sharing.fingerprint import VisitorHasher
from chorus_sharing.guidelines import HttpGuidelineChecker, content_client
from chorus_sharing.link_cache import LinkCache
from chorus_sharing.policies import PolicyService
from chorus_sharing.publishing import ApiPosting
from chorus_sharing.queries import SharingQueries
from chorus_sharing.redirect import RedirectService
from chorus_sharing.repository.credentials import PgCredentialStore
from chorus_sharing.repository.links import PgLinkDirectory
from chorus_sharing.repository.store import PgShareStore
from chorus_sharing.scheduling import ScheduledShares
from chorus_sharing.service import ShareService, utcnow
from chorus_sharing.settings import ClickDurability, SharingSettings

EXTRAS_KEY = "sharing"


class SharingRuntime:
    shares: ShareService
    scheduled: ScheduledShares
    queries: SharingQueries
    policies: PolicyService
    redirects: RedirectService
    credentials: PgCredentialStore
    recorder: ClickRecorder

    def __init__(self, ctx: ServiceContext, settings: SharingSettings) -> None:
        self.ctx = ctx
        self.settings = settings
        self.connectors: dict[Network, NetworkConnector] = {}
        self._clients: list[httpx.AsyncClient] = []

    async def start(self) -> None:
        s, pool = self.settings, self.ctx.pool
        hasher = VisitorHasher.from_setting(
            s.click_salt.get_secret_value(), required=s.require_click_salt
        )
        content = content_client(
            s.content_url,
            connect_timeout=s.content_connect_timeout,
            read_timeout=s.content_read_timeout,
        )
        self._clients.append(content)
        if s.linkedin_api_enabled:
            linkedin = linkedin_client(s.linkedin_api_base, s.connector_timeout)
            self._clients.append(linkedin)
            self.connectors[Network.LINKEDIN] = LinkedInMemberConnector(
                linkedin, version=s.linkedin_version
            )
        store = PgShareStore(pool)
        self.credentials = PgCredentialStore(pool)
        self.policies = PolicyService(store, default_daily_cap=s.default_daily_cap, clock=utcnow)
        self.queries = SharingQueries(store, clock=utcnow)
        api = ApiPosting(self.connectors, self.credentials)
        self.shares = ShareService(
            store,
            HttpGuidelineChecker(content),
            policies=self.policies,
            public_link_base=s.public_link_base,
            api=api,
        )
        self.scheduled = ScheduledShares(store, api, clock=utcnow)
        self.recorder = self._recorder()
        await self.recorder.start()
        links = LinkCache(
            PgLinkDirectory(pool),
            size=s.link_cache_size,
            negative_size=s.link_negative_cache_size,
            negative_ttl=s.link_negative_ttl,
        )
        self.redirects = RedirectService(links, self.recorder, hasher, clock=utcnow)
        self.ctx.extras[EXTRAS_KEY] = self

    def _recorder(self) -> ClickRecorder:
        s = self.settings
        outbox = OutboxClickRecorder(self.ctx.pool, timeout=s.click_timeout)
        if s.click_durability is ClickDurability.OUTBOX:
            return outbox
        publisher = click_publisher(s.kafka_bootstrap, f"{self.ctx.name}-clicks")
        # The partition count every consumer of `clicks.raw` creates it with (high volume).
        partitions = topic_partitions(self.ctx, [CLICK_RECORDED])
        kafka = KafkaClickRecorder(publisher, partitions=partitions, timeout=s.click_kafka_timeout)
        if not s.click_outbox_fallback:
            return kafka
        return FallbackClickRecorder(kafka, outbox, retry_after=s.click_kafka_retry_after)

    async def stop(self) -> None:
        await self.recorder.stop()
        for client in self._clients:
            await client.aclose()
