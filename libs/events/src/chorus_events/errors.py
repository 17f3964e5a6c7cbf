"""Which failures are worth retrying, and how a handler rejects one event."""

from __future__ import annotations

from aiokafka.errors import KafkaConnectionError, KafkaError, KafkaTimeoutError
from chorus_platform.failures import INFRASTRUCTURE_FAILURES


class RejectEvent(Exception):
    """Raised by a handler for an event that can never be applied (goes to the DLQ)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


_TRANSIENT: tuple[type[BaseException], ...] = (
    *INFRASTRUCTURE_FAILURES,
    KafkaConnectionError,
    KafkaTimeoutError,
)


def is_transient(exc: BaseException) -> bool:
    """True when retrying the same work later may succeed (infrastructure, not data)."""
    if isinstance(exc, _TRANSIENT):
        return True
    return isinstance(exc, KafkaError) and bool(getattr(exc, "retriable", False))
