"""Names and defaults shared by the stack manager, the CLI and the pytest plugin.

The local stack uses unusual ports (1xxxx) so it never collides with a Kafka, Postgres
or Redis a developer already runs on the standard ones, and stays below Linux's
ephemeral range (32768-60999): while an engine is down for a restart, a client
retrying a loopback port inside that range can be handed that very port as its own
source port (a TCP self-connect) and the engine then fails to bind ("Address already
in use"), as a Kafka restart in a fault test once did.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

KAFKA_ENV = "CHORUS_KAFKA_BOOTSTRAP"
DATABASE_ENV = "CHORUS_DATABASE_URL"
REDIS_ENV = "CHORUS_REDIS_URL"
SECRET_ENV = "CHORUS_INTERNAL_TOKEN_SECRET"  # noqa: S105 (a variable name, not a secret)


def _port_offset(environ: Mapping[str, str]) -> int:
    raw = environ.get("CHORUS_STACK_PORT_OFFSET", "").strip()
    offset = int(raw) if raw.isdigit() else 0
    if offset > 12_000:
        raise ValueError("CHORUS_STACK_PORT_OFFSET above 12000 reaches the ephemeral port range")
    return offset


# CHORUS_STACK_PORT_OFFSET shifts the engines' ports so a second stack (another
# checkout with its own CHORUS_HOME, or a cold-start measurement) can run beside this one.
PORT_OFFSET = _port_offset(os.environ)
KAFKA_PORT = 19092 + PORT_OFFSET
KAFKA_CONTROLLER_PORT = 19093 + PORT_OFFSET
POSTGRES_PORT = 15432 + PORT_OFFSET
REDIS_PORT = 16379 + PORT_OFFSET
HOST = "127.0.0.1"

DEFAULT_KAFKA_BOOTSTRAP = f"{HOST}:{KAFKA_PORT}"
DEFAULT_DATABASE_URL = f"postgresql://chorus@{HOST}:{POSTGRES_PORT}/chorus"
DEFAULT_REDIS_URL = f"redis://{HOST}:{REDIS_PORT}/0"

ComponentName = Literal["kafka", "postgres", "redis"]
INFRA_COMPONENTS: tuple[ComponentName, ...] = ("kafka", "postgres", "redis")
ENV_BY_COMPONENT: dict[ComponentName, str] = {
    "kafka": KAFKA_ENV,
    "postgres": DATABASE_ENV,
    "redis": REDIS_ENV,
}
DEFAULT_BY_COMPONENT: dict[ComponentName, str] = {
    "kafka": DEFAULT_KAFKA_BOOTSTRAP,
    "postgres": DEFAULT_DATABASE_URL,
    "redis": DEFAULT_REDIS_URL,
}

# Service name -> port; the order is the start order (gateway last: it calls the others).
# The offset shifts them too, so a second stack's services never meet the first's.
SERVICE_PORTS: dict[str, int] = {
    "content": 8101 + PORT_OFFSET,
    "sharing": 8102 + PORT_OFFSET,
    "metrics": 8103 + PORT_OFFSET,
    "rewards": 8104 + PORT_OFFSET,
    "gateway": 8100 + PORT_OFFSET,
}


def service_url(name: str) -> str:
    return f"http://{HOST}:{SERVICE_PORTS[name]}"


def service_wiring_env() -> dict[str, str]:
    """How the local services find each other (the defaults assume offset 0)."""
    gateway = service_url("gateway")
    wiring = {f"CHORUS_GATEWAY_{name.upper()}_URL": service_url(name) for name in SERVICE_PORTS}
    del wiring["CHORUS_GATEWAY_GATEWAY_URL"]
    return {
        **wiring,
        "CHORUS_GATEWAY_PUBLIC_URL": gateway,
        "CHORUS_SHARING_CONTENT_URL": service_url("content"),
        "CHORUS_SHARING_PUBLIC_LINK_BASE": gateway,
    }


MIGRATION_ORDER: tuple[str, ...] = ("content", "sharing", "metrics", "rewards", "gateway")

# Seconds; generous because a cold JVM on two busy cores can take over a minute.
READY_DEADLINE = 120.0
STOP_DEADLINE = 30.0


def explicit_endpoint(component: ComponentName, environ: Mapping[str, str]) -> str | None:
    """The endpoint the environment imposes on `component`, or None.

    An environment value equal to the local stack's own default is not an override:
    a shell that sourced `.local/stack.env` still lets the stack manage that component.
    """
    value = environ.get(ENV_BY_COMPONENT[component], "").strip()
    if not value or value == DEFAULT_BY_COMPONENT[component]:
        return None
    return value


@dataclass(frozen=True)
class Endpoints:
    """How to reach the three engines."""

    kafka_bootstrap: str
    database_url: str
    redis_url: str

    def as_env(self) -> dict[str, str]:
        return {
            KAFKA_ENV: self.kafka_bootstrap,
            DATABASE_ENV: self.database_url,
            REDIS_ENV: self.redis_url,
        }
