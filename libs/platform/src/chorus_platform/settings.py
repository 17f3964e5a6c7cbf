"""Settings shared by every service (12-factor, environment only).

Shared infrastructure uses shared names (`CHORUS_KAFKA_BOOTSTRAP`, ...), so one
env file configures the whole platform; each service subclasses
`ServiceSettings` with its own `env_prefix` (`CHORUS_CONTENT_`, ...) for what is
its alone. An explicit `validation_alias` is not prefixed by pydantic-settings,
which is exactly how the shared names escape the per-service prefix.
"""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    """Settings every service has. Subclass with `model_config = service_config("content")`."""

    model_config = SettingsConfigDict(env_prefix="CHORUS_", extra="ignore")

    kafka_bootstrap: str = Field(
        default="127.0.0.1:19092", validation_alias="CHORUS_KAFKA_BOOTSTRAP"
    )
    database_url: str = Field(
        default="postgresql://chorus@127.0.0.1:15432/chorus",
        validation_alias="CHORUS_DATABASE_URL",
    )
    redis_url: str = Field(default="redis://127.0.0.1:16379/0", validation_alias="CHORUS_REDIS_URL")
    internal_token_secret: SecretStr = Field(
        default=SecretStr(""), validation_alias="CHORUS_INTERNAL_TOKEN_SECRET"
    )
    otlp_endpoint: str | None = Field(default=None, validation_alias="CHORUS_OTLP_ENDPOINT")
    log_level: str = Field(default="INFO", validation_alias="CHORUS_LOG_LEVEL")
    kafka_partitions: int = Field(default=3, ge=1, validation_alias="CHORUS_KAFKA_PARTITIONS")
    # The raw click and engagement topics: one metrics process runs two ingest consumers
    # (more replicas, more), and 3 partitions split between two is 2:1.
    kafka_raw_partitions: int = Field(
        default=6, ge=1, validation_alias="CHORUS_KAFKA_RAW_PARTITIONS"
    )

    db_pool_min: int = Field(default=1, ge=0)
    db_pool_max: int = Field(default=10, ge=1)
    consumers_enabled: bool = True
    outbox_relay_enabled: bool = True


def service_config(service: str) -> SettingsConfigDict:
    """The `model_config` for a service's settings class: its own env prefix."""
    return SettingsConfigDict(env_prefix=f"CHORUS_{service.upper()}_", extra="ignore")
