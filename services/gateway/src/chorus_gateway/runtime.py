"""The running gateway's object graph, built when the lifespan starts (composition).

A `Worker` started first and stopped last, so the guard, the routes and the other
workers find everything here, on the live pool and Redis client.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aiohttp
import httpx
from chorus_platform.app import ServiceContext

from chorus_gateway.auth import apikeys
from chorus_gateway.auth.authenticator import Authenticator
from chorus_gateway.auth.jwks import RemoteJwks
from chorus_gateway.auth.last_used import LastUsedRecorder
from chorus_gateway.auth.principal import RateLimit
from chorus_gateway.auth.repository import AuthRepository
from chorus_gateway.auth.signing import LocalIssuer, load_or_create_key
from chorus_gateway.auth.tokens import LocalKeys, TokenVerifier, TrustedIssuer
from chorus_gateway.directory.service import DirectoryService
from chorus_gateway.limits.idempotency import IdempotencyStore
from chorus_gateway.limits.ratelimit import RateLimiter
from chorus_gateway.live.hub import LeaderboardHub
from chorus_gateway.live.relay import NoticeRelay
from chorus_gateway.openapi.catalog import OpenApiCatalog
from chorus_gateway.routing.identity import IdentityMinter
from chorus_gateway.routing.policy import Policy
from chorus_gateway.routing.table import RouteTable
from chorus_gateway.routing.upstream import Upstreams, new_session
from chorus_gateway.settings import GatewaySettings

EXTRAS_KEY = "gateway"


class GatewayRuntime:
    issuer: LocalIssuer
    authenticator: Authenticator
    auth_repository: AuthRepository
    directory: DirectoryService
    upstreams: Upstreams
    minter: IdentityMinter
    limiter: RateLimiter
    idempotency: IdempotencyStore
    catalog: OpenApiCatalog
    relay: NoticeRelay
    hub: LeaderboardHub

    def __init__(
        self,
        ctx: ServiceContext,
        settings: GatewaySettings,
        own_openapi: Callable[[], dict[str, Any]],
    ) -> None:
        self.ctx = ctx
        self.own_openapi = own_openapi
        self.settings = settings
        self.policy = Policy()
        self.routes = RouteTable(settings.routes, settings.upstream_urls())
        self._clients: list[httpx.AsyncClient] = []
        self._last_used: LastUsedRecorder | None = None
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        s = self.settings
        secret = s.internal_token_secret.get_secret_value()
        pepper = apikeys.derive_pepper(s.api_key_pepper.get_secret_value(), secret)
        key = load_or_create_key(s.signing_key_pem.get_secret_value(), s.signing_key_path,
                                 s.dev_key_path)  # fmt: skip
        self.issuer = LocalIssuer(key, s.public_url, s.token_audience, s.access_token_ttl_seconds)
        jwks_client = httpx.AsyncClient(timeout=s.jwks_fetch_timeout, trust_env=False)
        self._session = new_session(
            s.upstream_connect_timeout, s.upstream_read_timeout, s.upstream_max_connections
        )
        # httpx for the occasional fetches (JWKS, OpenAPI documents); aiohttp on the hot path.
        fetch_client = httpx.AsyncClient(timeout=s.upstream_read_timeout, trust_env=False)
        self._clients = [jwks_client, fetch_client]
        issuers = [
            TrustedIssuer(self.issuer.issuer, s.token_audience, "chorus_tenant",
                          LocalKeys(self.issuer.kid, self.issuer.jwk), local=True),
            *(
                TrustedIssuer(o.issuer, o.audience, o.tenant_claim, RemoteJwks(
                    o.jwks_url, jwks_client, cache_seconds=s.jwks_cache_seconds,
                    min_interval=s.jwks_refresh_min_interval), local=False)
                for o in s.oidc_issuers
            ),
        ]  # fmt: skip
        self.auth_repository = AuthRepository(self.ctx.pool)
        self._last_used = LastUsedRecorder(self.auth_repository, s.last_used_flush_seconds)
        await self._last_used.start()
        self.authenticator = Authenticator(
            self.auth_repository, TokenVerifier(issuers), pepper,
            RateLimit(s.rate_limit_per_minute, s.rate_limit_burst), self._last_used,
            s.principal_cache_seconds,
        )  # fmt: skip
        self.directory = DirectoryService(self.ctx.pool, pepper, self.authenticator.forget)
        self.upstreams = Upstreams(self._session, s.upstream_urls(), s.upstream_retries)
        self.minter = IdentityMinter(secret, s.identity_ttl_seconds)
        self.limiter = RateLimiter(self.ctx.redis)
        self.idempotency = IdempotencyStore(
            self.ctx.redis, s.idempotency_ttl_seconds, s.idempotency_lease_seconds
        )
        self.catalog = OpenApiCatalog(
            fetch_client, self.routes, self.policy, self.own_openapi, s.public_url,
            s.openapi_refresh_seconds,
        )  # fmt: skip
        await self.catalog.start()
        self.relay = NoticeRelay(self.ctx.redis, s.stream_replay_size)
        self.hub = LeaderboardHub(self.ctx.redis)
        await self.relay.start()
        await self.hub.start()
        self.ctx.extras[EXTRAS_KEY] = self

    async def stop(self) -> None:
        self.ctx.extras.pop(EXTRAS_KEY, None)
        await self.hub.stop()
        await self.relay.stop()
        await self.catalog.stop()
        if self._last_used is not None:
            await self._last_used.stop()
        for client in self._clients:
            await client.aclose()
        if self._session is not None:
            await self._session.close()
