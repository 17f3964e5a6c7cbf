"""Settings of the rewards service (env prefix `CHORUS_REWARDS_`, shared names unprefixed)."""

from __future__ import annotations

from chorus_platform.settings import ServiceSettings, service_config
from pydantic import Field


class RewardsSettings(ServiceSettings):
    model_config = service_config("rewards")

    # --- ledger consumer -------------------------------------------------------
    consumer_group: str = "rewards-ledger"
    consumer_batch_size: int = Field(default=1000, ge=1, le=10_000)
    consumer_batch_timeout_ms: int = Field(default=50, ge=1)
    """How long a batch waits to fill: the floor of leaderboard freshness under light load."""
    consumer_instances: int = Field(default=2, ge=1, le=64)
    """Ledger consumers in this process, members of one group (each takes a share of the
    partitions; more than the partition count sit idle). A batch's Python work then
    overlaps another member's Postgres transaction and Redis write (see `ledger_worker`):
    freshness at 2,000 events/s p99 median 663 ms with two against 754 with one (wide
    spread), at ~10% more CPU per event (bench/README.md, 28 Nov 2026)."""
    topic_prefix: str = ""
    """Prefix of the consumed topic names; isolated test and benchmark runs only."""
    trace_messages: bool | None = None
    """One consumer span per event: None = only when spans are exported (the runner's
    default); false trades per-event traces for throughput even then."""

    # --- leaderboards ----------------------------------------------------------
    leaderboard_max_limit: int = Field(default=100, ge=1, le=1000)
    leaderboard_trace_ratio: float = Field(default=0.01, ge=0, le=1)
    """Share of untraced leaderboard reads (no `traceparent`) that still get a SERVER span
    on the fast path (`api.fastpath`): a span costs more than the read itself."""

    # --- contests and raffles --------------------------------------------------
    scheduler_enabled: bool = True
    scheduler_interval: float = Field(default=5.0, gt=0)
    contest_freeze_grace: float = Field(default=300.0, ge=0)
    """Seconds after a contest's end before its results are frozen (late engagement)."""
