"""Points rules: what each action is worth, per tenant, versioned.

A tenant's rules are an append-only list of versions. Version 1 is the built-in
default, materialised the first time a tenant needs rules, so every ledger entry
can name the version that produced it. An event is valued with the version in
force at the event's own time (`effective_from <= event time`), not at the time
it is processed: replays, lag and rebuilds cannot change which version applies.

Facebook forbids rewarding users for posting, so a Facebook share is worth 0
points in every version (a rule set saying otherwise is rejected), and Facebook
shares do not count towards share badges, streaks or raffle weights either.
"""

from __future__ import annotations

import math
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Self

from chorus_events.contracts.base import Network
from pydantic import BaseModel, ConfigDict, Field, model_validator

Points = Annotated[int, Field(ge=0, le=100_000)]

UNREWARDED_SHARE_NETWORKS = frozenset({Network.FACEBOOK})
"""Networks whose policies forbid rewarding the act of posting."""


class Action(StrEnum):
    """What earns points; daily caps are set per action."""

    SHARE = "share"
    CLICK = "click"
    REACTION = "reaction"
    COMMENT = "comment"
    RESHARE = "reshare"
    IMPRESSIONS = "impressions"


ENGAGEMENT_ACTIONS: tuple[Action, ...] = (
    Action.CLICK,
    Action.REACTION,
    Action.COMMENT,
    Action.RESHARE,
    Action.IMPRESSIONS,
)
"""In the order of the per-share counters (`EngagementTotals` field order)."""


class EngagementRates(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    click: Points = 1
    reaction: Points = 1
    comment: Points = 2
    reshare: Points = 3
    per_1000_impressions: Points = 1

    def rate(self, action: Action) -> int:
        if action is Action.IMPRESSIONS:
            return self.per_1000_impressions
        value: int = getattr(self, action.value)
        return value


def _default_share_points() -> dict[Network, int]:
    points = dict.fromkeys(Network, 10)
    points[Network.EMAIL] = 5
    points[Network.FACEBOOK] = 0
    return points


def _default_caps() -> dict[Action, int]:
    return {
        Action.SHARE: 100,
        Action.CLICK: 200,
        Action.REACTION: 200,
        Action.COMMENT: 200,
        Action.RESHARE: 200,
        Action.IMPRESSIONS: 100,
    }


class PointsRules(BaseModel):
    """One version of a tenant's rules (the body of `PUT /v1/rewards/rules`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    share: dict[Network, Points] = Field(default_factory=_default_share_points)
    """Points per share by network; a network left out earns 0."""
    engagement: EngagementRates = EngagementRates()
    """Points per valid click, reaction, comment, reshare and per 1,000 impressions."""
    engagement_by_network: dict[Network, EngagementRates] = Field(default_factory=dict)
    """Overrides of `engagement` for shares on one network."""
    daily_caps: dict[Action, Annotated[int, Field(ge=0, le=10_000_000)]] = Field(
        default_factory=_default_caps
    )
    """Most points an advocate earns per action per day (tenant time zone); absent = no cap."""

    @model_validator(mode="after")
    def _facebook_posting_unrewarded(self) -> Self:
        for network in UNREWARDED_SHARE_NETWORKS:
            if self.share.get(network, 0) != 0:
                raise ValueError(
                    f"share points for {network.value} must be 0: "
                    "the network forbids rewarding users for posting"
                )
        return self

    def share_points(self, network: Network) -> int:
        return self.share.get(network, 0)

    def rates(self, network: Network) -> EngagementRates:
        return self.engagement_by_network.get(network, self.engagement)

    def cap(self, action: Action) -> int | None:
        return self.daily_caps.get(action)


DEFAULT_RULES = PointsRules()


def engagement_value(action: Action, rates: EngagementRates, count: int) -> int:
    """Points `count` units of `action` are worth before caps (impressions per 1,000, floored)."""
    rate = rates.rate(action)
    if action is Action.IMPRESSIONS:
        return impressions_value(rate, count)
    return count * rate


def impressions_value(rate: int, count: int) -> int:
    """Points `count` impressions are worth at `rate` per 1,000 (floored)."""
    return math.floor(count * rate / 1000)


class RulesVersion(BaseModel):
    model_config = ConfigDict(frozen=True)

    version: int
    effective_from: datetime | None
    """None for version 1: it applies to every event older than the next version."""
    rules: PointsRules


class RuleBook:
    """All versions of one tenant's rules, to pick the one in force at an event's time."""

    def __init__(self, versions: list[RulesVersion]) -> None:
        if not versions:
            raise ValueError("a rule book needs at least one version")
        self.versions = sorted(versions, key=lambda v: v.version)

    def at(self, when: datetime) -> RulesVersion:
        chosen = self.versions[0]
        for candidate in self.versions[1:]:
            if candidate.effective_from is not None and candidate.effective_from <= when:
                chosen = candidate
        return chosen

    @property
    def latest(self) -> RulesVersion:
        return self.versions[-1]
