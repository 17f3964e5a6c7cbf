"""Use case: learn the network's id of a share's post and count what was held for it."""

from __future__ import annotations

import asyncpg
from chorus_platform.problems import NotFound

from chorus_metrics.ingest import reported_repository as repo
from chorus_metrics.ingest.model import Changes
from chorus_metrics.ingest.reported import match_held
from chorus_metrics.ingest.repository import apply_changes, lock_shares, share_facts


async def register_post_ref(
    conn: asyncpg.Connection, tenant: str, share_id: str, network: str, post_ref: str
) -> int:
    """Record `post_ref` for the share; return how many held observations it matched.

    Runs inside the caller's transaction, under the share's lock like ingestion.
    """
    await lock_shares(conn, [(tenant, share_id)])
    facts = await share_facts(conn, [(tenant, share_id)])
    if not facts:
        raise NotFound(f"share {share_id} is not known to metrics")
    await repo.register_post_ref(conn, tenant, share_id, network, post_ref)
    held = await repo.pending_for_ref(conn, tenant, network, post_ref)
    if not held:
        return 0
    changes = Changes()
    matched = await match_held(
        conn,
        tenant,
        held,
        {share_id: facts[(tenant, share_id)]},
        {(network, post_ref): share_id},
        changes,
    )
    await apply_changes(conn, changes)
    return matched
