"""Use case: accept a batch of network-reported engagement, idempotently per item.

Decision: per-item results (HTTP 207), not all-or-nothing. Collectors push
webhooks in bulk and retry whole batches; one malformed item must not make them
resend (or drop) hundreds of good ones, and a replayed batch must answer
"duplicate" for what was already accepted rather than fail.

Durability: accepted items are written, in the request's transaction, as a
receipt (primary key tenant + source + source_event_id, which is what makes a
replay count once) and an `engagement.reported` event in the outbox. The
response is sent after commit, so a 207 means every "accepted" item will be
ingested. Ingestion then goes through the same consumer as connector events.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import NAMESPACE_URL, uuid5

import asyncpg
from chorus_events.contracts import ENGAGEMENT_REPORTED, EngagementReported
from chorus_events.outbox import append_event
from chorus_platform.problems import UnprocessableEntity
from pydantic import ValidationError

from chorus_metrics.reported import repository
from chorus_metrics.reported.schemas import BatchResult, ItemResult, ItemStatus

SOURCE = "/chorus/metrics"


def event_id_for(tenant: str, source: str, source_event_id: str) -> str:
    """Deterministic: the same observation always has the same event id."""
    return str(uuid5(NAMESPACE_URL, f"chorus:engagement:{tenant}:{source}:{source_event_id}"))


def _errors(exc: ValidationError) -> list[dict[str, Any]]:
    return [
        {"field": ".".join(str(p) for p in e["loc"]) or "<item>", "message": e["msg"]}
        for e in exc.errors(include_url=False, include_input=False, include_context=False)
    ]


async def accept_batch(
    conn: asyncpg.Connection, tenant: str, items: Sequence[dict[str, Any]], *, limit: int
) -> BatchResult:
    if len(items) > limit:
        raise UnprocessableEntity(f"at most {limit} items per request", max_items=limit)
    results: list[ItemResult] = []
    valid: list[tuple[int, EngagementReported]] = []
    for index, raw in enumerate(items):
        if "tenant_id" in raw and raw["tenant_id"] != tenant:
            results.append(
                ItemResult(
                    index=index,
                    status=ItemStatus.INVALID,
                    errors=[{"field": "tenant_id", "message": "not the caller's tenant"}],
                )
            )
            continue
        try:
            valid.append((index, EngagementReported.model_validate({**raw, "tenant_id": tenant})))
        except ValidationError as exc:
            results.append(ItemResult(index=index, status=ItemStatus.INVALID, errors=_errors(exc)))
    keys = [(p.source, p.source_event_id) for _, p in valid]
    new = await repository.add_receipts(
        conn, tenant, keys, [event_id_for(tenant, *k) for k in keys]
    )
    for index, payload in valid:
        key = (payload.source, payload.source_event_id)
        event_id = event_id_for(tenant, *key)
        status = ItemStatus.DUPLICATE
        if key in new:
            new.discard(key)  # a second copy inside the same batch is a duplicate
            await append_event(conn, ENGAGEMENT_REPORTED, payload, source=SOURCE, event_id=event_id)
            status = ItemStatus.ACCEPTED
        results.append(
            ItemResult(
                index=index,
                status=status,
                source=payload.source,
                source_event_id=payload.source_event_id,
                event_id=event_id,
            )
        )
    results.sort(key=lambda r: r.index)
    return BatchResult(
        accepted=sum(r.status is ItemStatus.ACCEPTED for r in results),
        duplicates=sum(r.status is ItemStatus.DUPLICATE for r in results),
        invalid=sum(r.status is ItemStatus.INVALID for r in results),
        results=results,
    )
