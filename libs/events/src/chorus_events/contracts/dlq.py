"""Dead-letter convention: names of the headers a consumer adds when it gives up on a record.

A record that can never be processed goes to `<topic>.dlq` unchanged (same key,
value and headers, including the `ce_*` attributes) plus the headers below, all
UTF-8 strings. Operators inspect it and may re-produce the original to `<topic>`.
"""

from __future__ import annotations

from typing import Final

DLQ_SUFFIX: Final = ".dlq"

ERROR_REASON: Final = "chorus_error_reason"
"""Short code: a PoisonMessage reason (e.g. "invalid-payload") or a handler's own code."""
ERROR_DETAIL: Final = "chorus_error_detail"
"""Human-readable explanation; never contains payload values."""
ORIGINAL_TOPIC: Final = "chorus_original_topic"
ORIGINAL_PARTITION: Final = "chorus_original_partition"
"""Decimal integer."""
ORIGINAL_OFFSET: Final = "chorus_original_offset"
"""Decimal integer."""
CONSUMER_GROUP: Final = "chorus_consumer_group"
"""The consumer group that failed to process the record."""
FAILED_AT: Final = "chorus_failed_at"
"""RFC 3339 UTC timestamp of the failure."""

DLQ_HEADERS: Final[tuple[str, ...]] = (
    ERROR_REASON,
    ERROR_DETAIL,
    ORIGINAL_TOPIC,
    ORIGINAL_PARTITION,
    ORIGINAL_OFFSET,
    CONSUMER_GROUP,
    FAILED_AT,
)


def dlq_topic(topic: str) -> str:
    """The dead-letter topic of `topic`."""
    return topic + DLQ_SUFFIX
