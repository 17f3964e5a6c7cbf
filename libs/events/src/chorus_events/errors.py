"""Which failures are worth retrying, and how a handler rejects one event."""

from __future__ import annotations

import asyncio

import asyncpg
from aiokafka.errors import KafkaConnectionError, KafkaError, KafkaTimeoutError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError


class RejectEvent(Exception):
    """Raised by a handler for an event that can never be applied (goes to the DLQ)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


_TRANSIENT: tuple[type[BaseException], ...] = (
    OSError,  # includes ConnectionError: the database or broker went away
    asyncio.TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,  # connection closed mid-operation
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.SerializationError,
    asyncpg.DeadlockDetectedError,
    asyncpg.AdminShutdownError,
    KafkaConnectionError,
    KafkaTimeoutError,
    RedisConnectionError,
    RedisTimeoutError,
)


def is_transient(exc: BaseException) -> bool:
    """True when retrying the same work later may succeed (infrastructure, not data)."""
    if isinstance(exc, _TRANSIENT):
        return True
    return isinstance(exc, KafkaError) and bool(getattr(exc, "retriable", False))
