"""Settings of the sharing service (env prefix `CHORUS_SHARING_`, shared names unprefixed)."""

from __future__ import annotations

from chorus_platform.settings import ServiceSettings, service_config


class SharingSettings(ServiceSettings):
    model_config = service_config("sharing")
