"""Transactional outbox: append inside the caller's transaction; a relay publishes.

`append_event` writes the fully encoded record into `<schema>.outbox` on the
caller's connection, inside the caller's transaction: if the transaction rolls
back the event never existed; if it commits, the event will reach Kafka — now,
or after Kafka comes back. The relay (`OutboxRelay`) does the publishing.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

import asyncpg
from pydantic import BaseModel

from chorus_events.contracts.registry import EventSpec
from chorus_events.envelope import Envelope, KafkaRecord, encode
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
    record = encode(
        spec,
        payload,
        source=source,
        event_id=event_id,
        time=time,
        extra_headers={**_trace_headers(caused_by), **(extra_headers or {})},
    )
    (ce_id,) = await _insert(conn, [record])
    return ce_id


async def append_events(
    conn: asyncpg.Connection,
    spec: EventSpec[P],
    payloads: Sequence[P],
    *,
    source: str,
    caused_by: Envelope[Any] | None = None,
) -> list[str]:
    """Append `payloads` in order with one statement; return their event ids.

    Same rows as calling `append_event` for each, in one round trip: for handlers
    that emit thousands of events per transaction while holding row locks.
    """
    trace = _trace_headers(caused_by)
    records = [encode(spec, p, source=source, extra_headers=trace) for p in payloads]
    return await _insert(conn, records)


async def _insert(conn: asyncpg.Connection, records: Sequence[KafkaRecord]) -> list[str]:
    if not conn.is_in_transaction():
        raise RuntimeError("outbox appends must run inside the caller's transaction")
    if not records:
        return []
    headers = [[[k, v.decode("utf-8")] for k, v in r.headers] for r in records]
    ids = [next(v for k, v in h if k == "ce_id") for h in headers]
    # WITH ORDINALITY + ORDER BY: ids (and so publishing order) follow the input order.
    await conn.execute(
        "INSERT INTO outbox (event_id, topic, key, value, headers, lane) "
        "SELECT e.event_id, e.topic, e.key, e.value, e.headers::jsonb, e.lane "
        "FROM unnest($1::text[], $2::text[], $3::bytea[], $4::bytea[], $5::text[], "
        "  $6::smallint[]) WITH ORDINALITY AS e(event_id, topic, key, value, headers, lane, n) "
        "ORDER BY e.n",
        ids,
        [r.topic for r in records],
        [r.key for r in records],
        [r.value for r in records],
        [json.dumps(h) for h in headers],
        [lane_for(r.key) for r in records],
    )
    return ids


def _trace_headers(caused_by: Envelope[Any] | None) -> dict[str, str]:
    if caused_by is None:
        return current_trace_headers()
    return current_trace_headers(context_from_headers(caused_by.headers))
