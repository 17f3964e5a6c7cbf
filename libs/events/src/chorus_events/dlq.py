"""Dead-letter queue: poison messages go to `<topic>.dlq`, with the reason in headers.

A poison message can never succeed (undecodable, unknown type or version, failed
validation, or a handler that rejects it on its own). It is republished
byte-for-byte with error headers and the consumer moves on. `DeadLetterPolicy`
is the brake (after arroyo): if too many messages in a row or too large a share
of recent ones are poison, the likelier cause is a bad deploy or a producer bug,
so the consumer stops instead of dead-lettering the whole stream.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import repeat

from aiokafka.structs import ConsumerRecord

from chorus_events.contracts import dlq as names
from chorus_events.contracts.dlq import dlq_topic
from chorus_events.envelope import KafkaRecord

__all__ = ["DeadLetterLimitExceeded", "DeadLetterPolicy", "dead_letter_record", "dlq_topic"]


def dead_letter_record(
    message: ConsumerRecord, group: str, reason: str, detail: str
) -> KafkaRecord:
    # A message dead-lettered twice (re-produced by an operator) keeps only the latest error.
    headers = [(k, v) for k, v in (message.headers or ()) if k not in names.DLQ_HEADERS]
    headers += [
        (names.ERROR_REASON, reason.encode()),
        (names.ERROR_DETAIL, detail[:2000].encode("utf-8", "replace")),
        (names.ORIGINAL_TOPIC, message.topic.encode()),
        (names.ORIGINAL_PARTITION, str(message.partition).encode()),
        (names.ORIGINAL_OFFSET, str(message.offset).encode()),
        (names.CONSUMER_GROUP, group.encode()),
        (names.FAILED_AT, datetime.now(UTC).isoformat().encode()),
    ]
    return KafkaRecord(
        topic=dlq_topic(message.topic),
        key=message.key or b"",
        value=message.value or b"",
        headers=headers,
    )


class DeadLetterLimitExceeded(Exception):
    """Raised to stop a consumer whose input is mostly poison."""


@dataclass
class DeadLetterPolicy:
    """Stop when `max_consecutive` poison messages arrive in a row, or when more
    than `max_ratio` of the last `window` messages were poison (once the window
    holds at least `min_samples`)."""

    max_consecutive: int = 100
    max_ratio: float = 0.5
    window: int = 1000
    min_samples: int = 200
    _recent: deque[bool] = field(default_factory=deque, repr=False)
    _poison_in_window: int = 0
    _consecutive: int = 0

    def record(self, poison: bool) -> None:
        self._recent.append(poison)
        self._poison_in_window += poison
        if len(self._recent) > self.window:
            self._poison_in_window -= self._recent.popleft()
        self._consecutive = self._consecutive + 1 if poison else 0

    def record_good(self, count: int) -> None:
        """Record `count` good messages in a row: `record(False)` that many times, cheaply."""
        if count <= 0:
            return
        self._consecutive = 0
        if count >= self.window:
            self._poison_in_window = 0  # every poison message slides out
        if self._poison_in_window == 0:
            # The window holds only good messages: rebuild it in one go.
            self._recent = deque(repeat(False, min(len(self._recent) + count, self.window)))
            return
        self._recent.extend(repeat(False, count))
        for _ in range(len(self._recent) - self.window):
            self._poison_in_window -= self._recent.popleft()

    def check(self) -> None:
        if self._consecutive >= self.max_consecutive:
            raise DeadLetterLimitExceeded(
                f"{self._consecutive} consecutive poison messages (limit {self.max_consecutive})"
            )
        samples = len(self._recent)
        if samples >= self.min_samples and self._poison_in_window / samples > self.max_ratio:
            raise DeadLetterLimitExceeded(
                f"{self._poison_in_window}/{samples} recent messages were poison "
                f"(limit {self.max_ratio:.0%})"
            )
