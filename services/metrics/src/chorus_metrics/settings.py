"""Settings of the metrics service (env prefix `CHORUS_METRICS_`, shared names unprefixed)."""

from __future__ import annotations

from chorus_platform.settings import ServiceSettings, service_config
from pydantic import Field, SecretStr


class MetricsSettings(ServiceSettings):
    model_config = service_config("metrics")

    # --- consumers ------------------------------------------------------------
    shares_group: str = "metrics-shares"
    ingest_group: str = "metrics-ingest"
    content_group: str = "metrics-content"
    ingest_batch_size: int = Field(default=2000, ge=1)
    ingest_batch_timeout_ms: int = Field(default=100, ge=1)
    ingest_consumer_instances: int = Field(default=2, ge=1, le=64)
    """Ingest consumers in this process, members of one group: each takes a share of the
    partitions (clicks are keyed by share, so they lock disjoint shares) and one's
    Python work overlaps another's PostgreSQL transaction. Two reach ~1.4x one's clicks
    per second on two cores (bench/README.md); more cost CPU per click (smaller
    batches) and more than the partition count sit idle."""

    # --- engagement.updated flusher -------------------------------------------
    flusher_enabled: bool = True
    flush_min_interval: float = Field(default=1.0, ge=0)
    """At most one `engagement.updated` per share per this many seconds."""
    flush_poll_interval: float = Field(default=0.2, gt=0)
    flush_batch_size: int = Field(default=500, ge=1)
    rollup_fold_interval: float = Field(default=5.0, gt=0)
    """Contributor rankings (top contributors) lag ingestion by up to about this long.
    Each fold writes every (period, scope, contributor) row changed since the last one,
    however many clicks it merges: a longer interval merges more (5 s: half the ranked
    row writes of 2 s on the benchmark's recent-shares workload)."""

    # --- KPIs -----------------------------------------------------------------
    default_time_zone: str = "UTC"
    """Bucketing zone when neither the request nor the tenant's program names one."""
    kpi_top_limit_max: int = Field(default=500, ge=1)

    # --- reported engagement API ----------------------------------------------
    reported_batch_max: int = Field(default=1000, ge=1)

    # --- LinkedIn member post analytics connector (off by default) ------------
    linkedin_analytics_enabled: bool = False
    linkedin_api_base: str = "https://api.linkedin.com"
    linkedin_version: str = Field(default="202510", pattern=r"^\d{6}$")
    linkedin_access_token: SecretStr = SecretStr("")
    linkedin_poll_interval: float = Field(default=900.0, gt=0)
    linkedin_timeout: float = Field(default=10.0, gt=0)
