"""Settings of the content service (env prefix `CHORUS_CONTENT_`, shared names unprefixed)."""

from __future__ import annotations

from chorus_platform.settings import ServiceSettings, service_config


class ContentSettings(ServiceSettings):
    model_config = service_config("content")
