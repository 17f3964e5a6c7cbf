"""Settings of the content service (env prefix `CHORUS_CONTENT_`, shared names unprefixed)."""

from __future__ import annotations

from chorus_platform.settings import ServiceSettings, service_config
from pydantic import Field


class ContentSettings(ServiceSettings):
    model_config = service_config("content")

    scheduler_enabled: bool = True
    """Run the publish/expiry scheduler in this instance (safe in every replica)."""
    scheduler_poll_interval: float = Field(default=1.0, gt=0, le=3600)
    """Seconds between looks for due publications and expiries: the worst-case delay."""
    scheduler_batch_size: int = Field(default=100, ge=1, le=10_000)
    """Items one scheduler transaction publishes or expires at most."""
    guidelines_cache_size: int = Field(default=256, ge=1)
    """Compiled guideline matchers kept per instance (one per active tenant)."""
