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
    # PostgreSQL by SQLSTATE class: 08 connection, 53 resources (disk full, out of
    # memory, too many connections), 58 I/O; from 40 and 57 only what a retry cures.
    asyncpg.PostgresConnectionError,
    asyncpg.InsufficientResourcesError,
    asyncpg.PostgresSystemError,
    asyncpg.SerializationError,
    asyncpg.DeadlockDetectedError,
    asyncpg.LockNotAvailableError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.CannotConnectNowError,
    # The client side of a connection the server dropped: "connection closed"
    # (InterfaceError), or a pooled connection whose last operation the drop cut
    # short, whose next one fails with "cannot switch to state ...; another
    # operation is in progress" (InternalClientError). Seen while PostgreSQL
    # restarted; counted as data, it dead-lettered a valid event.
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
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
