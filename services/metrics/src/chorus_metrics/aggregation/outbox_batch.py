"""Append many events to the outbox in one statement.

`chorus_events.outbox.append_event` inserts one row per call; the flusher emits
up to thousands of events per transaction, and one round trip each made it the
bottleneck of ingestion while it held the claimed shares' row locks. This
writes exactly the rows `append_event` writes (same encoding, headers, trace
context and lane) with one INSERT. It belongs in `chorus_events.outbox` as
`append_events`; until then it lives here (see the service README).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TypeVar

import asyncpg
from chorus_events.contracts.registry import EventSpec
from chorus_events.envelope import encode
from chorus_events.outbox import lane_for
from chorus_events.tracing import current_trace_headers
from pydantic import BaseModel

P = TypeVar("P", bound=BaseModel)


async def append_events(
    conn: asyncpg.Connection, spec: EventSpec[P], payloads: Sequence[P], *, source: str
) -> list[str]:
    """Append `payloads` in order inside the caller's transaction; return their event ids."""
    if not conn.is_in_transaction():
        raise RuntimeError("append_events must run inside the caller's transaction")
    if not payloads:
        return []
    trace = current_trace_headers()
    records = [encode(spec, p, source=source, extra_headers=trace) for p in payloads]
    headers = [[[k, v.decode("utf-8")] for k, v in r.headers] for r in records]
    ids = [next(v for k, v in h if k == "ce_id") for h in headers]
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
