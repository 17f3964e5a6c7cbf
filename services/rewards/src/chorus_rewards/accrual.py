"""Turning events into ledger entries: rules, daily caps, the per-share sequence guard.

Pure domain code: the consumer loads the state this needs (share progress, cap
usage), calls it event by event in stream order, and writes back what changed.

**Engagement is valued from totals, not deltas.** `EngagementUpdated` carries
both; we keep, per share, the totals already accounted for and the sequence
they came with. An update whose sequence is not above the stored one is stale
(a replay by metrics, or an older window overtaken by a newer one) and has no
effect. A fresh update is valued as `value(new totals) - value(accounted)`, so
a skipped sequence number costs nothing (the next totals include it) and a
stale update can never be counted twice. Using the event's own deltas would
double count after a replay and lose counts after a gap.

**Caps are deterministic given the order of each advocate's events.** Events
are keyed `tenant:advocate`, so one advocate's share events arrive in one
order on `share.posted` and their engagement events in one order on
`engagement.updated`. Share points only use the `share` cap and engagement
points only the engagement caps, so how the two topics interleave never
matters. The day of a cap is the event's local day in the tenant's zone.
A positive change is granted up to the room left under the day's cap; the
rest is forfeited, never carried over (caps exist to stop farming). A negative
change (a fraud verdict taking counts back) takes back at most what this share
was actually paid for that action, so a correction lowers points exactly by
what the fraudulent counts earned, and forfeited points are not taken twice.
Corrections do not give cap room back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from chorus_events.contracts.base import Network
from chorus_events.contracts.engagement import EngagementUpdated
from chorus_events.contracts.sharing import SharePosted

from chorus_rewards.boards import normalize_hashtag
from chorus_rewards.periods import local_date
from chorus_rewards.rules import (
    ENGAGEMENT_ACTIONS,
    Action,
    PointsRules,
    RuleBook,
    impressions_value,
)

CapKey = tuple[str, str, str, int]
"""(tenant, advocate, action, local day ordinal)."""


class EntryKind(StrEnum):
    SHARE = "share"
    ENGAGEMENT = "engagement"
    REDEMPTION = "redemption"
    REFUND = "refund"


EARNING_KINDS = (EntryKind.SHARE, EntryKind.ENGAGEMENT)
"""Entries that count on leaderboards; spending points does not lower a rank."""


@dataclass(frozen=True)
class TenantContext:
    tenant_id: str
    tz: ZoneInfo
    book: RuleBook


@dataclass
class LedgerEntry:
    tenant_id: str
    advocate_id: str
    kind: EntryKind
    points: int
    occurred_at: datetime
    engagement: int = 0
    reach: int = 0
    breakdown: dict[str, dict[str, int]] = field(default_factory=dict)
    rule_version: int | None = None
    event_id: str | None = None
    share_id: str | None = None
    team_ids: tuple[str, ...] = ()
    hashtags: tuple[str, ...] = ()
    redemption_id: int | None = None

    def metric_deltas(self) -> tuple[int, int, int]:
        return (self.points, self.engagement, self.reach)


@dataclass
class ShareProgress:
    """What was accounted for one share: last sequence, counted totals, points paid per action."""

    tenant_id: str
    share_id: str
    advocate_id: str
    sequence: int = 0
    counts: list[int] = field(default_factory=lambda: [0] * len(ENGAGEMENT_ACTIONS))
    paid: list[int] = field(default_factory=lambda: [0] * len(ENGAGEMENT_ACTIONS))


_SHARE = Action.SHARE.value
_ENGAGEMENT = tuple(a.value for a in ENGAGEMENT_ACTIONS)  # enum .value is slow on hot paths
_IMPRESSIONS = ENGAGEMENT_ACTIONS.index(Action.IMPRESSIONS)


CapDay = tuple[str, str, int]
"""(tenant, advocate, local day ordinal): one `cap_days` row, every action of the day."""


def cap_day_of_share(ctx: TenantContext, p: SharePosted) -> CapDay:
    return (p.tenant_id, p.advocate_id, local_date(p.posted_at, ctx.tz).toordinal())


def cap_day_of_engagement(ctx: TenantContext, p: EngagementUpdated) -> CapDay:
    return (p.tenant_id, p.advocate_id, local_date(p.window_end, ctx.tz).toordinal())


@lru_cache(maxsize=4096)
def normalized_hashtags(hashtags: tuple[str, ...]) -> tuple[str, ...]:
    """An event's campaign hashtags normalised, first occurrence kept (remembered: events
    repeat a few campaigns' tags)."""
    return tuple(dict.fromkeys(normalize_hashtag(h) for h in hashtags))


_Terms = tuple[tuple[int, ...], tuple[int | None, ...]]
_terms: dict[tuple[int, Network], tuple[PointsRules, _Terms]] = {}


def _engagement_terms(rules: PointsRules, network: Network) -> _Terms:
    """(rate, daily cap) per engagement action of `rules` on `network`, worked out once per
    rules version and network instead of per event (versions are immutable; the cache keeps
    the rules object alive, so its id is not reused while cached)."""
    hit = _terms.get((id(rules), network))
    if hit is not None and hit[0] is rules:
        return hit[1]
    rates = rules.rates(network)
    terms = (
        tuple(rates.rate(a) for a in ENGAGEMENT_ACTIONS),
        tuple(rules.cap(a) for a in ENGAGEMENT_ACTIONS),
    )
    if len(_terms) >= 1024:
        _terms.clear()
    _terms[(id(rules), network)] = (rules, terms)
    return terms


class Accrual:
    """Values a batch's events in order against the loaded cap usage."""

    def __init__(self, cap_usage: dict[CapKey, int]) -> None:
        self.cap_usage = cap_usage
        self.touched: set[CapKey] = set()

    def _grant(self, key: CapKey, raw: int, cap: int | None) -> int:
        used = self.cap_usage.get(key, 0)
        granted = raw if cap is None else max(0, min(raw, cap - used))
        if granted:
            self.cap_usage[key] = used + granted
            self.touched.add(key)
        return granted

    def share(self, ctx: TenantContext, event_id: str, p: SharePosted) -> LedgerEntry:
        """The entry for a share seen for the first time (0 points is still an entry)."""
        version = ctx.book.at(p.posted_at)
        rules = version.rules
        raw = rules.share_points(p.network)
        key = (p.tenant_id, p.advocate_id, _SHARE, local_date(p.posted_at, ctx.tz).toordinal())
        granted = self._grant(key, raw, rules.cap(Action.SHARE))
        return LedgerEntry(
            tenant_id=p.tenant_id,
            advocate_id=p.advocate_id,
            kind=EntryKind.SHARE,
            points=granted,
            occurred_at=p.posted_at,
            breakdown={_SHARE: {"points": granted, "uncapped": raw}},
            rule_version=version.version,
            event_id=event_id,
            share_id=p.share_id,
            team_ids=tuple(p.team_ids),
            hashtags=normalized_hashtags(p.campaign_hashtags),
        )

    def engagement(
        self, ctx: TenantContext, event_id: str, p: EngagementUpdated, progress: ShareProgress
    ) -> LedgerEntry | None:
        """The entry for a fresh update, None for a stale one or one that changes nothing."""
        if p.sequence <= progress.sequence:
            return None
        totals = p.totals
        new_counts = [totals.clicks, totals.reactions, totals.comments, totals.reshares]
        new_counts.append(totals.impressions)
        old_counts = progress.counts
        progress.sequence = p.sequence
        if new_counts == old_counts:
            return None
        version = ctx.book.at(p.window_end)
        rates, caps = _engagement_terms(version.rules, p.network)
        day = -1  # the local day, worked out only when a positive change meets a cap
        points = 0
        paid, usage = progress.paid, self.cap_usage
        breakdown: dict[str, dict[str, Any]] = {}
        for i in range(len(_ENGAGEMENT)):
            old, new = old_counts[i], new_counts[i]
            if old == new:
                continue
            rate = rates[i]
            if i == _IMPRESSIONS:  # `rules.engagement_value`, with the rate looked up once
                raw = impressions_value(rate, new) - impressions_value(rate, old)
            else:
                raw = (new - old) * rate
            if raw > 0:  # `_grant`, inlined
                if day < 0:
                    day = local_date(p.window_end, ctx.tz).toordinal()
                key = (p.tenant_id, p.advocate_id, _ENGAGEMENT[i], day)
                cap, used = caps[i], usage.get(key, 0)
                granted = raw if cap is None else max(0, min(raw, cap - used))
                if granted:
                    usage[key] = used + granted
                    self.touched.add(key)
            elif raw < 0:  # take back at most what this share was paid for the action
                granted = -min(-raw, paid[i])
            else:
                granted = 0
            paid[i] += granted
            points += granted
            breakdown[_ENGAGEMENT[i]] = {"count": new - old, "points": granted, "uncapped": raw}
        progress.counts = new_counts
        return LedgerEntry(
            tenant_id=p.tenant_id,
            advocate_id=p.advocate_id,
            kind=EntryKind.ENGAGEMENT,
            points=points,
            occurred_at=p.window_end,
            engagement=sum(new_counts[:4]) - sum(old_counts[:4]),
            reach=new_counts[4] - old_counts[4],
            breakdown=breakdown,
            rule_version=version.version,
            event_id=event_id,
            share_id=p.share_id,
            team_ids=tuple(p.team_ids),
            hashtags=normalized_hashtags(p.campaign_hashtags),
        )
