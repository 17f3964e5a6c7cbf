"""Which failures are the infrastructure's (retry the same work later) and which are not.

One classification for everything that talks to PostgreSQL, Redis or the network:
the event consumers (`chorus_events.errors.is_transient` adds Kafka's errors) and
the background loops. A loop never ends on a failure of either kind: it logs it
(`report_loop_failure`) and tries again after its backoff. A loop that died on an
error nobody had listed stopped the metrics flusher for good after a PostgreSQL
restart, and with it every `engagement.updated`.
"""

from __future__ import annotations

import asyncio
import logging

import asyncpg
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

INFRASTRUCTURE_FAILURES: tuple[type[BaseException], ...] = (
    OSError,  # includes ConnectionError: the database or a broker went away
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
    # The client side of a connection the server dropped: "connection is closed"
    # (InterfaceError), or a pooled connection whose last operation the drop cut
    # short, whose next one fails with "cannot switch to state ...; another
    # operation is in progress" (InternalClientError). Both seen while PostgreSQL
    # restarted.
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    RedisConnectionError,
    RedisTimeoutError,
)


def is_infrastructure_failure(exc: BaseException) -> bool:
    """True when retrying the same work later may succeed (infrastructure, not data)."""
    return isinstance(exc, INFRASTRUCTURE_FAILURES)


def report_loop_failure(
    log: logging.Logger, loop: str, exc: BaseException, retry_in: float
) -> None:
    """Log a background loop's failed pass: a warning for the infrastructure's, the
    traceback for anything else (a bug or bad data must be seen, and the loop goes on)."""
    if is_infrastructure_failure(exc):
        log.warning("%s failed, retrying in %.1fs: %r", loop, retry_in, exc)
    else:
        log.error("%s failed, retrying in %.1fs", loop, retry_in, exc_info=exc)
