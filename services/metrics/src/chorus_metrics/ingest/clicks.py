"""Use case: judge tracked-link clicks and count the valid ones on their shares."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta

import asyncpg
from chorus_events.contracts import ClickRecorded

from chorus_metrics.fraud.judge import Click, ClickJudge, Judgement, Verdict
from chorus_metrics.fraud.rules import FraudRules, Reason
from chorus_metrics.ingest import clicks_repository as repo
from chorus_metrics.ingest.model import Changes, ShareFacts, ShareKey
from chorus_metrics.telemetry import CLICKS_HELD, CLICKS_JUDGED, CLICKS_REVOKED


async def ingest_clicks(
    conn: asyncpg.Connection,
    tenant: str,
    payloads: Sequence[ClickRecorded],
    facts: Mapping[ShareKey, ShareFacts],
    rules: FraudRules,
    changes: Changes,
) -> None:
    """Store `payloads` (one tenant) with verdicts; clicks of unknown shares are held.

    The caller holds the share locks (`lock_shares`) and passes the known shares.
    A click id seen before (re-produced by the sharing service) is ignored.
    """
    unique = {p.click_id: p for p in payloads}
    seen = await repo.existing_ids(conn, tenant, list(unique))
    known: list[Click] = []
    held: list[Click] = []
    for p in unique.values():
        if p.click_id in seen:
            continue
        share = facts.get((tenant, p.share_id))
        click = Click(
            p.click_id,
            p.share_id,
            share.advocate_id if share else "",
            p.occurred_at,
            p.visitor_hash,
            p.ip_prefix,
            p.user_agent,
        )
        (known if share else held).append(click)
    await repo.insert(conn, tenant, held, [("pending", None)] * len(held))
    CLICKS_HELD.inc(len(held))
    if not known:
        return
    judgement = await judge(conn, tenant, rules, known)
    by_id = {c.click_id: c for c in known}
    ordered = [by_id[v.click_id] for v in judgement.verdicts]
    statuses = [("valid" if v.valid else "rejected", _reason(v.reason)) for v in judgement.verdicts]
    inserted = await repo.insert(conn, tenant, ordered, statuses)
    count(changes, tenant, [v for v in judgement.verdicts if v.click_id in inserted])
    await revoke(conn, tenant, judgement, changes)


async def match_held_clicks(
    conn: asyncpg.Connection,
    tenant: str,
    shares: Mapping[str, ShareFacts],
    rules: FraudRules,
    changes: Changes,
) -> int:
    """Judge the clicks held for `shares` (which just arrived); return how many."""
    rows = await repo.pending(conn, tenant, list(shares))
    if not rows:
        return 0
    clicks = [
        Click(
            r["click_id"],
            r["share_id"],
            shares[r["share_id"]].advocate_id,
            r["occurred_at"],
            r["visitor_hash"],
            r["ip_prefix"],
            r["user_agent"],
        )
        for r in rows
    ]
    judgement = await judge(conn, tenant, rules, clicks)
    await repo.set_verdicts(conn, tenant, judgement.verdicts)
    count(changes, tenant, judgement.verdicts)
    await revoke(conn, tenant, judgement, changes)
    return len(clicks)


async def judge(
    conn: asyncpg.Connection, tenant: str, rules: FraudRules, clicks: Sequence[Click]
) -> Judgement:
    """Load what the rules need to see about the past, then judge `clicks`."""
    unique_window = timedelta(seconds=rules.unique_click.window_seconds)
    burst_window = timedelta(seconds=rules.burst.window_seconds)
    visitor_probes = _probes(
        clicks,
        key=lambda c: (c.share_id, c.visitor_hash),
        before=unique_window,
        after=unique_window,
    )
    prefix_probes = _probes(
        [c for c in clicks if c.ip_prefix],
        key=lambda c: (c.share_id, c.ip_prefix or ""),
        before=burst_window,
        after=timedelta(microseconds=1),
    )
    history = []
    if rules.unique_click.enabled:
        history += await repo.visitor_history(conn, tenant, visitor_probes)
    if rules.burst.enabled:
        history += await repo.prefix_history(conn, tenant, prefix_probes)
    # A click found by both probes is one past click: the judge must see it once.
    unique_history = {p.click_id: p for p in history}.values()
    advocates = (
        await repo.advocate_visitors(conn, tenant, [c.visitor_hash for c in clicks])
        if rules.self_click.enabled
        else set()
    )
    return ClickJudge(rules, advocate_visitors=advocates, history=unique_history).judge_all(clicks)


def _probes(
    clicks: Sequence[Click],
    *,
    key: Callable[[Click], tuple[str, str]],
    before: timedelta,
    after: timedelta,
) -> list[tuple[str, str, datetime, datetime]]:
    """One (share, visitor-or-prefix, from, to) range per pair, covering all its clicks."""
    spans: dict[tuple[str, str], tuple[datetime, datetime]] = {}
    for click in clicks:
        k = key(click)
        lo, hi = spans.get(k, (click.occurred_at, click.occurred_at))
        spans[k] = (min(lo, click.occurred_at), max(hi, click.occurred_at))
    return [(k[0], k[1], lo - before, hi + after) for k, (lo, hi) in spans.items()]


async def revoke(
    conn: asyncpg.Connection, tenant: str, judgement: Judgement, changes: Changes
) -> None:
    """Apply a late burst verdict: take back clicks already counted."""
    shares = await repo.revoke(
        conn, tenant, [r.click_id for r in judgement.revocations], Reason.BURST.value
    )
    CLICKS_REVOKED.inc(len(shares))
    for share_id in shares:
        change = changes.of((tenant, share_id))
        change.clicks -= 1
        change.rejected[Reason.BURST.value] += 1


def count(changes: Changes, tenant: str, verdicts: Sequence[Verdict]) -> None:
    """Add `verdicts` to their shares' changes and to the judged-clicks counter."""
    judged: Counter[str] = Counter()
    for verdict in verdicts:
        change = changes.of((tenant, verdict.share_id))
        if verdict.reason is None:
            change.clicks += 1
            judged["valid"] += 1
        else:
            change.rejected[verdict.reason.value] += 1
            judged[verdict.reason.value] += 1
    # One labelled increment per outcome, not per click (a labels() lookup each).
    for outcome, n in judged.items():
        CLICKS_JUDGED.labels(outcome).inc(n)


def _reason(reason: Reason | None) -> str | None:
    return reason.value if reason else None
