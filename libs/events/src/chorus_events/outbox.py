"""Transactional outbox: append inside the caller's transaction; a relay publishes.

`append_event` writes the fully encoded record into `<schema>.outbox` on the
caller's connection, inside the caller's transaction: if the transaction rolls
back the event never existed; if it commits, the event will reach Kafka — now,
or after Kafka comes back. The relay (`OutboxRelay`) does the publishing.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypeVar

import asyncpg
from pydantic import BaseModel

from chorus_events.contracts.registry import EventSpec
from chorus_events.envelope import Envelope, encode
from chorus_events.tracing import context_from_headers, current_trace_headers

P = TypeVar("P", bound=BaseModel)

# Number of ordering lanes. Rows of one Kafka key always fall in the same lane; a
# relay replica publishes whole lanes, so per-key order holds across replicas.
LANES = 32


def lane_for(key: bytes) -> int:
    return zlib.crc32(key) % LANES


async def append_event(
    conn: asyncpg.Connection,
    spec: EventSpec[P],
    payload: P,
    *,
    source: str,
    event_id: str | None = None,
    time: datetime | None = None,
    caused_by: Envelope[Any] | None = None,
    extra_headers: Mapping[str, str] | None = None,
) -> str:
    """Append one event to the outbox of the connection's schema; return its event id.

    Must be called inside a transaction (`async with conn.transaction()`): the
    point is that the event commits or rolls back with the state change.
    `caused_by` carries the trace of a consumed event into the produced one, so a
    trace runs through every hop even when handlers work in batches.
    """
    if not conn.is_in_transaction():
        raise RuntimeError("append_event must run inside the caller's transaction")
    trace_headers = (
        _trace_headers_of(caused_by) if caused_by is not None else current_trace_headers()
    )
    record = encode(
        spec,
        payload,
        source=source,
        event_id=event_id,
        time=time,
        extra_headers={**trace_headers, **(extra_headers or {})},
    )
    headers = [[k, v.decode("utf-8")] for k, v in record.headers]
    ce_id = next(v for k, v in headers if k == "ce_id")
    await conn.execute(
        "INSERT INTO outbox (event_id, topic, key, value, headers, lane) "
        "VALUES ($1, $2, $3, $4, $5, $6)",
        ce_id,
        record.topic,
        record.key,
        record.value,
        headers,
        lane_for(record.key),
    )
    return ce_id


def _trace_headers_of(envelope: Envelope[Any]) -> dict[str, str]:
    return current_trace_headers(context_from_headers(envelope.headers))
