"""Settings of the rewards service (env prefix `CHORUS_REWARDS_`, shared names unprefixed)."""

from __future__ import annotations

from chorus_platform.settings import ServiceSettings, service_config


class RewardsSettings(ServiceSettings):
    model_config = service_config("rewards")
