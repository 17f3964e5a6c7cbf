"""Settings of the gateway service (env prefix `CHORUS_GATEWAY_`, shared names unprefixed)."""

from __future__ import annotations

from chorus_platform.settings import ServiceSettings, service_config


class GatewaySettings(ServiceSettings):
    model_config = service_config("gateway")
