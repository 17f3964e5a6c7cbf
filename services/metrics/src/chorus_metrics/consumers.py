"""Event handlers: shares and content read models, clicks and reported engagement.

Each handler runs inside the consumer runner's transaction (effects and the
processed event ids commit together). Both engagement handlers lock the shares
they touch first (`lock_shares`), see that function for why.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import asyncpg
from chorus_events.consumer import AfterCommit
from chorus_events.contracts import (
    CLICK_RECORDED,
    CONTENT_APPROVED,
    CONTENT_RETIRED,
    ENGAGEMENT_REPORTED,
    SHARE_POSTED,
    ClickRecorded,
    ContentApproved,
    ContentRetired,
    EngagementReported,
    SharePosted,
)
from chorus_events.envelope import Envelope

from chorus_metrics.ingest import reported_repository, shares_repository
from chorus_metrics.ingest.clicks import ingest_clicks, match_held_clicks
from chorus_metrics.ingest.model import Changes, ShareFacts, ShareKey
from chorus_metrics.ingest.reported import ingest_reported, match_held, resolve
from chorus_metrics.ingest.repository import apply_changes, fraud_rules, lock_shares, share_facts

SHARE_SPECS = (SHARE_POSTED,)
INGEST_SPECS = (CLICK_RECORDED, ENGAGEMENT_REPORTED)
CONTENT_SPECS = (CONTENT_APPROVED, CONTENT_RETIRED)


async def on_shares(batch: Sequence[Envelope[Any]], conn: asyncpg.Connection) -> AfterCommit | None:
    """Record shares, then count what was held for them, in the same transaction."""
    shares: list[SharePosted] = [env.payload for env in batch]
    await lock_shares(conn, [(s.tenant_id, s.share_id) for s in shares])
    new = await shares_repository.insert_shares(conn, shares)
    if not new:
        return None
    facts = await share_facts(conn, new)
    by_tenant: dict[str, dict[str, ShareFacts]] = defaultdict(dict)
    for (tenant, share_id), fact in facts.items():
        by_tenant[tenant][share_id] = fact
    rules = await fraud_rules(conn, list(by_tenant))
    changes = Changes()
    for tenant, tenant_shares in by_tenant.items():
        await match_held_clicks(conn, tenant, tenant_shares, rules[tenant], changes)
        held = await reported_repository.pending_for_shares(conn, tenant, list(tenant_shares))
        if held:
            await match_held(conn, tenant, held, tenant_shares, {}, changes)
    await apply_changes(conn, changes)
    return None


async def on_engagement(
    batch: Sequence[Envelope[Any]], conn: asyncpg.Connection
) -> AfterCommit | None:
    """Judge clicks and count reported engagement; hold what belongs to unknown shares."""
    clicks: dict[str, list[ClickRecorded]] = defaultdict(list)
    reported: dict[str, list[EngagementReported]] = defaultdict(list)
    # Dispatch on the payload model, not the spec: the benchmark runs these handlers
    # on private topics with specs of the same models.
    for env in batch:
        payload = env.payload
        if isinstance(payload, ClickRecorded):
            clicks[payload.tenant_id].append(payload)
        elif isinstance(payload, EngagementReported):
            reported[payload.tenant_id].append(payload)
    resolved = {tenant: await resolve(conn, tenant, items) for tenant, items in reported.items()}
    keys: set[ShareKey] = {(c.tenant_id, c.share_id) for cs in clicks.values() for c in cs}
    for tenant, items in reported.items():
        for r in items:
            share_id = r.share_id or resolved[tenant].get(
                (r.network.value, r.network_post_ref or "")
            )
            if share_id:
                keys.add((tenant, share_id))
    await lock_shares(conn, keys)
    facts = await share_facts(conn, keys)
    rules = await fraud_rules(conn, list(clicks))
    changes = Changes()
    for tenant, tenant_clicks in clicks.items():
        await ingest_clicks(conn, tenant, tenant_clicks, facts, rules[tenant], changes)
    for tenant, items in reported.items():
        tenant_facts = {s: f for (t, s), f in facts.items() if t == tenant}
        await ingest_reported(conn, tenant, items, tenant_facts, resolved[tenant], changes)
    await apply_changes(conn, changes)
    return None


async def on_content(
    batch: Sequence[Envelope[Any]], conn: asyncpg.Connection
) -> AfterCommit | None:
    for env in batch:
        payload = env.payload
        if isinstance(payload, ContentApproved):
            await shares_repository.upsert_content(conn, payload)
        elif isinstance(payload, ContentRetired):
            await shares_repository.retire_content(conn, payload)
    return None
