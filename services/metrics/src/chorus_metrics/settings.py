"""Settings of the metrics service (env prefix `CHORUS_METRICS_`, shared names unprefixed)."""

from __future__ import annotations

from chorus_platform.settings import ServiceSettings, service_config


class MetricsSettings(ServiceSettings):
    model_config = service_config("metrics")
