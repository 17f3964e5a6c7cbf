"""Use case: count network-reported engagement on its share, once per observation."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import asyncpg
from chorus_events.contracts import EngagementReported

from chorus_metrics.fraud.rules import Reason
from chorus_metrics.ingest import reported_repository as repo
from chorus_metrics.ingest.model import Changes, ShareFacts
from chorus_metrics.ingest.reported_rules import Outcome, ReportedItem, evaluate
from chorus_metrics.telemetry import REPORTED_INGESTED

FRAUD_REASONS = frozenset(reason.value for reason in Reason)


def item_of(payload: EngagementReported) -> ReportedItem:
    return ReportedItem(
        source=payload.source,
        source_event_id=payload.source_event_id,
        share_id=payload.share_id,
        network=payload.network.value,
        network_post_ref=payload.network_post_ref,
        kind=payload.kind.value,
        count=payload.count,
        cumulative=payload.cumulative,
        comment_text=payload.comment_text,
        occurred_at=payload.occurred_at,
    )


async def resolve(
    conn: asyncpg.Connection, tenant: str, payloads: Sequence[EngagementReported]
) -> dict[tuple[str, str], str]:
    """Share ids of the posts named only by their network reference."""
    refs = {
        (p.network.value, p.network_post_ref)
        for p in payloads
        if p.share_id is None and p.network_post_ref is not None
    }
    return await repo.resolve_post_refs(conn, tenant, sorted(refs))


async def ingest_reported(
    conn: asyncpg.Connection,
    tenant: str,
    payloads: Sequence[EngagementReported],
    facts: Mapping[str, ShareFacts],
    resolved: Mapping[tuple[str, str], str],
    changes: Changes,
) -> None:
    """Store new observations of one tenant with their outcome and count the valid ones.

    The caller holds the share locks. `(source, source_event_id)` already stored
    means a redelivery or a replayed webhook: it is skipped.
    """
    unique = {(p.source, p.source_event_id): item_of(p) for p in payloads}
    seen = await repo.existing(conn, tenant, list(unique))
    items = [item for key, item in unique.items() if key not in seen]
    if not items:
        return
    outcomes = await _evaluate(conn, tenant, items, facts, resolved, analyse_text=True)
    inserted = await repo.insert(conn, tenant, outcomes)
    stored = [o for o in outcomes if o.item.key in inserted]
    for outcome in stored:
        REPORTED_INGESTED.labels(outcome.status).inc()
    count(changes, tenant, stored)


async def match_held(
    conn: asyncpg.Connection,
    tenant: str,
    held: Sequence[ReportedItem],
    facts: Mapping[str, ShareFacts],
    resolved: Mapping[tuple[str, str], str],
    changes: Changes,
) -> int:
    """Count held observations whose share is now known; return how many matched."""
    outcomes = await _evaluate(conn, tenant, held, facts, resolved, analyse_text=False)
    matched = [o for o in outcomes if o.status != "pending"]
    await repo.update(conn, tenant, matched)
    count(changes, tenant, matched)
    return len(matched)


async def _evaluate(
    conn: asyncpg.Connection,
    tenant: str,
    items: Sequence[ReportedItem],
    facts: Mapping[str, ShareFacts],
    resolved: Mapping[tuple[str, str], str],
    *,
    analyse_text: bool,
) -> list[Outcome]:
    keys = sorted(
        {
            (i.source, share_id, i.kind)
            for i in items
            if i.cumulative
            and (share_id := i.share_id or resolved.get((i.network, i.network_post_ref or "")))
        }
    )
    totals = await repo.running_totals(conn, tenant, keys)
    before = dict(totals)
    outcomes = evaluate(items, facts, totals, resolved=resolved, analyse_text=analyse_text)
    await repo.save_running_totals(
        conn, tenant, {k: v for k, v in totals.items() if before.get(k) != v}
    )
    return outcomes


def count(changes: Changes, tenant: str, outcomes: Sequence[Outcome]) -> None:
    for outcome in outcomes:
        if outcome.share_id is None:
            continue
        if outcome.status == "valid" and outcome.applied:
            change = changes.of((tenant, outcome.share_id))
            change.add(outcome.item.kind, outcome.applied)
            if outcome.item.kind == "impressions":
                change.impressions_reported = True
        elif outcome.status == "rejected" and outcome.reason in FRAUD_REASONS:
            changes.of((tenant, outcome.share_id)).rejected[outcome.reason] += 1
