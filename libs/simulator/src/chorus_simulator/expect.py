"""What the platform must show after a run, computed from the run's record alone.

This is an independent statement of the product's rules (the fraud rules of the
metrics service, the points rules of rewards, the leaderboard scopes), written from
their documentation, not from their code: the journey test fails when the two differ.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chorus_simulator.record import ClickRecord, Record, ShareRecord

KINDS = ("reactions", "comments", "reshares", "impressions")


@dataclass
class ShareTotals:
    clicks: int = 0
    reactions: int = 0
    comments: int = 0
    reshares: int = 0
    impressions: int = 0

    @property
    def engagement(self) -> int:
        return self.clicks + self.reactions + self.comments + self.reshares


@dataclass
class Expectation:
    totals: dict[str, ShareTotals]
    """share id -> validated totals"""
    rejected: Counter[str]
    """reason -> clicks rejected for it"""
    boards: dict[tuple[str, str, str], dict[str, int]]
    """(metric, scope, scope_id or "") -> advocate -> value (non-zero values only)"""
    earned: dict[str, int]
    rewardable_shares: dict[str, int]
    shares_by_advocate: Counter[str] = field(default_factory=Counter)
    ambiguous_clicks: int = 0
    """Failed redirect attempts that were retried: each may or may not have been
    recorded before it failed, so rejection counts may exceed the expectation by this."""

    def engagement_by_advocate(self) -> dict[str, int]:
        return self.boards.get(("engagement", "tenant", ""), {})


def _prefix(address: str) -> str:
    return address.rsplit(".", 1)[0]


def judge_clicks(record: Record) -> tuple[Counter[str], Counter[str]]:
    """(valid clicks per share, rejected clicks per reason), applying in order: bot,
    burst (a /24 with `max_clicks` clicks on one share within the window: every click
    of it), duplicate (one valid click per visitor per share per window)."""
    burst = record.fraud_rules["burst"]
    served = [c for c in record.clicks if c.status == 302]
    by_prefix: dict[tuple[str, str], list[ClickRecord]] = defaultdict(list)
    for click in served:
        by_prefix[(click.share_id, _prefix(click.address))].append(click)
    in_burst: set[int] = set()
    for group in by_prefix.values():
        if len(group) < burst["max_clicks"]:
            continue
        times = sorted(datetime.fromisoformat(c.at) for c in group)
        if (times[-1] - times[0]).total_seconds() > burst["window_seconds"] / 2:
            raise ValueError("a burst spread over the window: its outcome depends on timing")
        in_burst.update(id(c) for c in group)
    valid: Counter[str] = Counter()
    rejected: Counter[str] = Counter()
    visitors: set[tuple[str, str, str]] = set()
    for click in served:
        if click.visit == "crawler":
            rejected["bot"] += 1
        elif id(click) in in_burst:
            rejected["burst"] += 1
        elif (click.share_id, click.address, click.user_agent) in visitors:
            rejected["duplicate"] += 1
        else:
            visitors.add((click.share_id, click.address, click.user_agent))
            valid[click.share_id] += 1
    return valid, rejected


def share_points(rules: dict[str, Any], share: ShareRecord, totals: ShareTotals) -> int:
    rates = rules.get("engagement_by_network", {}).get(share.network, rules["engagement"])
    points: int = (
        rules["share"].get(share.network, 0)
        + totals.clicks * rates["click"]
        + totals.reactions * rates["reaction"]
        + totals.comments * rates["comment"]
        + totals.reshares * rates["reshare"]
        + math.floor(totals.impressions * rates["per_1000_impressions"] / 1000)
    )
    return points


def expect(record: Record) -> Expectation:
    if record.points_rules.get("daily_caps"):
        raise ValueError("expectations assume no daily caps (the simulator sets none)")
    valid, rejected = judge_clicks(record)
    by_id = {s.share_id: s for s in record.shares}
    totals = {s.share_id: ShareTotals(clicks=valid[s.share_id]) for s in record.shares}
    for report in record.reports:
        share = by_id[report.share_id]
        # Engagement reported for another network than the share's is not counted.
        # "duplicate" here means a retried batch whose first delivery was committed.
        counted = report.result in ("accepted", "duplicate")
        if counted and report.network == share.network:
            t = totals[report.share_id]
            setattr(t, report.kind, getattr(t, report.kind) + report.count)
    boards: dict[tuple[str, str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    earned: dict[str, int] = defaultdict(int)
    rewardable: dict[str, int] = defaultdict(int)
    shares_by_advocate: Counter[str] = Counter()
    for share in record.shares:
        t = totals[share.share_id]
        points = share_points(record.points_rules, share, t)
        who = share.advocate_id
        earned[who] += points
        shares_by_advocate[who] += 1
        if share.network != "facebook":
            rewardable[who] += 1
        tags = [("hashtag", h.lower()) for h in share.hashtags]
        for scope, scope_id in [("tenant", ""), ("team", share.team_id), *tags]:
            boards[("points", scope, scope_id)][who] += points
            if scope != "team":
                boards[("engagement", scope, scope_id)][who] += t.engagement
                boards[("reach", scope, scope_id)][who] += t.impressions
    nonzero = {key: {a: v for a, v in board.items() if v} for key, board in boards.items()}
    ambiguous = sum(c.attempts - 1 for c in record.clicks)
    return Expectation(
        totals, rejected, nonzero, dict(earned), dict(rewardable), shares_by_advocate, ambiguous
    )
