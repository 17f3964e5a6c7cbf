"""Settings of the gateway (env prefix `CHORUS_GATEWAY_`, shared names unprefixed).

Everything has a working local default, so `make up` needs no configuration; what
must differ in production is called out on the field (keys, peppers, issuers).
"""

from __future__ import annotations

from pathlib import Path

from chorus_platform.settings import ServiceSettings, service_config
from pydantic import BaseModel, Field, SecretStr

# Path prefix -> upstream service. Longest prefix wins; `/l` is the public redirect.
DEFAULT_ROUTES: dict[str, str] = {
    "/v1/content": "content",
    "/v1/feed": "sharing",
    "/v1/shares": "sharing",
    "/v1/sharing": "sharing",
    "/l": "sharing",
    "/v1/metrics": "metrics",
    "/v1/rewards": "rewards",
}


class OidcIssuer(BaseModel):
    """An external identity provider whose tokens the gateway accepts for people."""

    issuer: str
    jwks_url: str
    audience: str
    tenant_claim: str = "chorus_tenant"
    """The claim naming the Chorus tenant the person belongs to."""


class GatewaySettings(ServiceSettings):
    model_config = service_config("gateway")

    # -- routing
    content_url: str = "http://127.0.0.1:8101"
    sharing_url: str = "http://127.0.0.1:8102"
    metrics_url: str = "http://127.0.0.1:8103"
    rewards_url: str = "http://127.0.0.1:8104"
    routes: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_ROUTES))
    extra_upstreams: dict[str, str] = Field(default_factory=dict)
    """More services by name -> base URL, for routes added to `routes`."""
    upstream_connect_timeout: float = Field(default=2.0, gt=0)
    upstream_read_timeout: float = Field(default=30.0, gt=0)
    upstream_max_connections: int = Field(default=200, ge=1)
    upstream_retries: int = Field(default=2, ge=0, le=5)
    """Extra attempts for idempotent methods whose connection could not be opened."""
    identity_ttl_seconds: int = Field(default=60, ge=10)
    proxy_trace_ratio: float = Field(default=0.01, ge=0, le=1)
    """Share of forwarded requests traced when the caller sent no `traceparent` (a
    span costs more than the rest of forwarding; traced callers are always followed)."""

    # -- people's tokens
    public_url: str = "http://127.0.0.1:8100"
    """Where clients reach the gateway: the `iss` of the tokens it issues."""
    token_audience: str = "chorus"  # noqa: S105 (an audience)
    access_token_ttl_seconds: int = Field(default=900, ge=60)
    signing_key_pem: SecretStr = SecretStr("")
    """PEM of the ES256 (P-256) private key; set it (or the path) in production."""
    signing_key_path: Path | None = None
    dev_key_path: Path = Path(".local/gateway/signing-key.pem")
    """Generated here when no key is configured (development only; git-ignored)."""
    oidc_issuers: list[OidcIssuer] = Field(default_factory=list)
    jwks_cache_seconds: float = Field(default=3600.0, gt=0)
    jwks_refresh_min_interval: float = Field(default=30.0, ge=0)
    """An unknown `kid` refetches the issuer's JWKS at most this often."""
    jwks_fetch_timeout: float = Field(default=3.0, gt=0)

    # -- API keys
    api_key_pepper: SecretStr = SecretStr("")
    """HMAC key over API key secrets; set it in production (derived from the internal
    token secret when empty, so rotating that secret would invalidate every key)."""
    principal_cache_seconds: float = Field(default=5.0, ge=0)
    """How long a verified key or a person's roles are reused: the revocation delay."""
    last_used_flush_seconds: float = Field(default=10.0, gt=0)

    # -- rate limits (per principal; tenants may override)
    rate_limit_per_minute: int = Field(default=1200, ge=1)
    rate_limit_burst: int = Field(default=200, ge=1)

    # -- idempotency
    idempotency_ttl_seconds: int = Field(default=86_400, ge=60)
    idempotency_lease_seconds: int = Field(default=60, ge=1)
    idempotency_max_body_bytes: int = Field(default=1_048_576, ge=1024)

    # -- OpenAPI and live leaderboards
    openapi_refresh_seconds: float = Field(default=300.0, gt=0)
    stream_replay_size: int = Field(default=1000, ge=1)
    stream_keepalive_seconds: float = Field(default=15.0, gt=0)

    def upstream_urls(self) -> dict[str, str]:
        return {
            "content": self.content_url,
            "sharing": self.sharing_url,
            "metrics": self.metrics_url,
            "rewards": self.rewards_url,
            **self.extra_upstreams,
        }
