"""The `rewards-ledger` consumer: share.posted and engagement.updated into the ledger.

Runs under the backbone's `ConsumerRunner`: each batch arrives de-duplicated by
event id inside an open transaction, and everything below commits or rolls back
with the runner's tracking rows, so a redelivered event has no second effect.
The Redis side effects are returned as an `AfterCommit` (see `board_sync`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from chorus_events.consumer import AfterCommit
from chorus_events.contracts.engagement import EngagementUpdated
from chorus_events.contracts.registry import ENGAGEMENT_UPDATED, SHARE_POSTED
from chorus_events.contracts.sharing import SharePosted
from chorus_events.envelope import Envelope

from chorus_rewards import metrics
from chorus_rewards.accrual import (
    Accrual,
    CapKey,
    LedgerEntry,
    ShareProgress,
    TenantContext,
    cap_day_of_engagement,
    cap_day_of_share,
    normalized_hashtags,
)
from chorus_rewards.badges import count_share
from chorus_rewards.board_sync import BoardWriter, update_standings
from chorus_rewards.periods import bucket_tuple
from chorus_rewards.repository import ledger as repo
from chorus_rewards.repository.locks import lock_tenants_shared
from chorus_rewards.rules import UNREWARDED_SHARE_NETWORKS
from chorus_rewards.tenants import load_contexts


@dataclass
class BatchResult:
    """What one batch changed, for the after-commit step and the tests."""

    contexts: dict[str, TenantContext]
    entries: list[LedgerEntry]
    badges: list[tuple[str, str, str, str]] = field(default_factory=list)
    """(tenant, advocate, badge, cause) granted by this batch."""
    progress: list[ShareProgress] = field(default_factory=list)
    caps: dict[CapKey, int] = field(default_factory=dict)
    """Cap usage of every action on each (tenant, advocate, day) this batch changed."""
    accounts: list[repo.AccountRow] = field(default_factory=list)
    """Share progress, cap usage and account deltas this batch changed (not yet written)."""


async def apply_events(conn: asyncpg.Connection, batch: Sequence[Envelope[Any]]) -> BatchResult:
    """Write the ledger effects of `batch` (in stream order) on `conn`'s transaction."""
    result = await accrue_events(conn, batch)
    await write_effects(conn, result)
    return result


async def write_effects(conn: asyncpg.Connection, result: BatchResult) -> None:
    """Write what `accrue_events` computed: entries, progress, caps, accounts, badges (one
    statement)."""
    await repo.write_batch(
        conn,
        entries=result.entries,
        progress=result.progress,
        caps=result.caps,
        accounts=result.accounts,
        badges=result.badges,
    )
    _count(result.entries)


async def accrue_events(conn: asyncpg.Connection, batch: Sequence[Envelope[Any]]) -> BatchResult:
    """Lock and load what `batch` needs (shares are recorded here: whether a share is new
    decides its points) and value its events in stream order; `write_effects` writes the
    rest. Both run on `conn`'s transaction."""
    # One pass over the batch collects what the loads below need.
    shares: list[tuple[str, SharePosted]] = []
    updates: list[tuple[str, EngagementUpdated]] = []
    ordered: list[tuple[str, SharePosted | EngagementUpdated]] = []
    advocates: set[repo.Advocate] = set()
    shared: set[tuple[str, str]] = set()
    share_type, engagement_type = SHARE_POSTED.ce_type, ENGAGEMENT_UPDATED.ce_type
    for env in batch:
        p = env.payload
        if env.type == share_type:
            shares.append((env.id, p))
        elif env.type == engagement_type:
            updates.append((env.id, p))
            shared.add((p.tenant_id, p.share_id))
        else:
            continue
        ordered.append((env.id, p))
        advocates.add((p.tenant_id, p.advocate_id))
    tenants = sorted({t for t, _ in advocates})
    if not tenants:
        return BatchResult({}, [])
    await lock_tenants_shared(conn, tenants)
    contexts = await load_contexts(conn, tenants)
    accounts = await repo.lock_advocates(conn, advocates)
    fresh_shares = await repo.insert_shares(conn, [_new_share(eid, p) for eid, p in shares])
    progress = await repo.load_progress(conn, shared)
    days = {cap_day_of_share(contexts[p.tenant_id], p) for _, p in shares}
    days.update(cap_day_of_engagement(contexts[p.tenant_id], p) for _, p in updates)
    accrual = Accrual(await repo.load_cap_days(conn, days))

    result = BatchResult(contexts, [])
    touched_progress: dict[tuple[str, str], ShareProgress] = {}
    touched_accounts: dict[repo.Advocate, repo.AccountRow] = {}
    for event_id, p in ordered:
        ctx = contexts[p.tenant_id]
        account = accounts[(p.tenant_id, p.advocate_id)]
        entry: LedgerEntry | None
        if isinstance(p, SharePosted):
            if (p.tenant_id, p.share_id) not in fresh_shares:
                continue  # the same share announced again under another event id
            fresh_shares.discard((p.tenant_id, p.share_id))
            entry = accrual.share(ctx, event_id, p)
            if p.network not in UNREWARDED_SHARE_NETWORKS:
                week = bucket_tuple(p.posted_at, ctx.tz)[1]  # no `Buckets` object per share
                for badge in count_share(account, week):
                    result.badges.append((p.tenant_id, p.advocate_id, badge, event_id))
        else:
            key = (p.tenant_id, p.share_id)
            state = progress.get(key)
            if state is None:
                state = progress[key] = ShareProgress(p.tenant_id, p.share_id, p.advocate_id)
            before = state.sequence
            entry = accrual.engagement(ctx, event_id, p, state)
            if p.sequence > before:
                touched_progress[key] = state
            else:
                metrics.STALE_UPDATES.inc()
        touched_accounts[(p.tenant_id, p.advocate_id)] = account
        if entry is not None:
            account.balance_delta += entry.points
            account.earned_delta += entry.points
            result.entries.append(entry)

    result.progress = list(touched_progress.values())
    # Whole days: a `cap_days` row holds every action of its day (see `repo.cap_days`).
    days = {(k[0], k[1], k[3]) for k in accrual.touched}
    result.caps = {k: g for k, g in accrual.cap_usage.items() if (k[0], k[1], k[3]) in days}
    result.accounts = list(touched_accounts.values())
    return result


def _new_share(event_id: str, p: SharePosted) -> repo.NewShare:
    return repo.NewShare(
        tenant_id=p.tenant_id,
        share_id=p.share_id,
        advocate_id=p.advocate_id,
        network=p.network.value,
        rewardable=p.network not in UNREWARDED_SHARE_NETWORKS,
        team_ids=tuple(p.team_ids),
        hashtags=normalized_hashtags(p.campaign_hashtags),
        posted_at=p.posted_at,
        event_id=event_id,
    )


def _count(entries: Sequence[LedgerEntry]) -> None:
    """Summed per label set first: a `labels()` lookup per entry cost more than the sums."""
    points: dict[tuple[str, str], int] = {}
    capped: dict[str, int] = {}
    for e in entries:
        if e.points:
            label = (e.kind.value, "awarded" if e.points > 0 else "taken_back")
            points[label] = points.get(label, 0) + abs(e.points)
        for action, detail in e.breakdown.items():
            forfeited = detail.get("uncapped", 0) - detail.get("points", 0)
            if forfeited > 0 and detail.get("uncapped", 0) > 0:
                capped[action] = capped.get(action, 0) + forfeited
    for (kind, sign), total in points.items():
        metrics.POINTS.labels(kind, sign).inc(total)
    for action, total in capped.items():
        metrics.CAPPED_POINTS.labels(action).inc(total)


class LedgerConsumer:
    """The handler given to the runner: ledger and standings now, Redis after the commit."""

    def __init__(self, writer: BoardWriter) -> None:
        self.writer = writer

    async def __call__(
        self, batch: Sequence[Envelope[Any]], conn: asyncpg.Connection
    ) -> AfterCommit | None:
        result = await accrue_events(conn, batch)
        changes = await update_standings(
            conn, result.contexts, result.entries, lambda: write_effects(conn, result)
        )
        if not changes:
            return None

        async def publish_boards() -> None:
            await self.writer.write_after_commit(changes)

        return publish_boards
