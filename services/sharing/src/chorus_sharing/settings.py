"""Settings of the sharing service (env prefix `CHORUS_SHARING_`, shared names unprefixed)."""

from __future__ import annotations

from enum import StrEnum

from chorus_platform.settings import ServiceSettings, service_config
from pydantic import Field, SecretStr


class ClickDurability(StrEnum):
    """Where a click is made durable before its 302 (see README, "Recording clicks")."""

    KAFKA = "kafka"
    """Produce to `clicks.raw` and wait for acks=all (outbox fallback: see settings)."""
    OUTBOX = "outbox"
    """Insert into the outbox in a (group-committed) transaction; the relay publishes."""


class SharingSettings(ServiceSettings):
    model_config = service_config("sharing")

    # --- collaborators -------------------------------------------------------
    content_url: str = "http://127.0.0.1:8101"
    """Base URL of the content service (guidelines check API)."""
    content_connect_timeout: float = Field(default=1.0, gt=0)
    content_read_timeout: float = Field(default=2.0, gt=0)
    public_link_base: str = Field(default="http://127.0.0.1:8100", pattern=r"^https?://[^\s]+$")
    """Public origin tracked links are served from (the gateway routes `/l/` without auth)."""

    # --- feed read model -----------------------------------------------------
    consumer_group: str = "sharing-content"
    feed_page_max: int = Field(default=100, ge=1, le=500)

    # --- shares --------------------------------------------------------------
    default_daily_cap: int = Field(default=10, ge=1)
    """Shares per advocate per UTC day when the tenant has no policy of its own."""
    scheduler_enabled: bool = True
    scheduler_interval: float = Field(default=1.0, gt=0)
    scheduler_batch: int = Field(default=100, ge=1)

    # --- tracked links and clicks --------------------------------------------
    click_salt: SecretStr = SecretStr("")
    """Key of the visitor fingerprint HMAC. Empty: a random one per process (dev only)."""
    require_click_salt: bool = False
    """Production sets this: refuse to start without `click_salt`."""
    click_durability: ClickDurability = ClickDurability.KAFKA
    click_outbox_fallback: bool = True
    """With `kafka`: record in the outbox while Kafka fails (redirects keep working)."""
    click_kafka_timeout: float = Field(default=1.0, gt=0)
    """Longest a click waits for Kafka's ack before it falls back (or 503s without fallback)."""
    click_kafka_retry_after: float = Field(default=5.0, ge=0)
    """After a Kafka failure, clicks go straight to the outbox for this long."""
    click_timeout: float = Field(default=5.0, gt=0)
    """Longest a redirect waits for the outbox commit before answering 503."""
    link_cache_size: int = Field(default=100_000, ge=1)
    link_negative_cache_size: int = Field(default=10_000, ge=1)
    link_negative_ttl: float = Field(default=30.0, ge=0)
    redirect_trace_ratio: float = Field(default=0.01, ge=0, le=1)
    """Share of redirects traced when the request carries no `traceparent` (a span
    costs more than the rest of a redirect; traced callers are always followed)."""

    # --- network connectors (API posting; off by default) --------------------
    linkedin_api_enabled: bool = False
    linkedin_api_base: str = "https://api.linkedin.com"
    linkedin_version: str = Field(default="202510", pattern=r"^\d{6}$")
    """`LinkedIn-Version` header (YYYYMM); LinkedIn sunsets versions after about a year."""
    connector_timeout: float = Field(default=10.0, gt=0)
