"""Request and response models of the HTTP API (limits as Field constraints)."""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, BaseModel, Field

from chorus_rewards.leaderboards import Ranked, ResolvedBoard
from chorus_rewards.rules import PointsRules, RulesVersion


class PutRules(BaseModel):
    rules: PointsRules
    effective_from: AwareDatetime | None = None
    """When the version takes effect (default now; future dates schedule it)."""


class RulesOut(BaseModel):
    version: int
    effective_from: datetime | None
    rules: PointsRules

    @classmethod
    def of(cls, v: RulesVersion) -> RulesOut:
        return cls(version=v.version, effective_from=v.effective_from, rules=v.rules)


class SettingsBody(BaseModel):
    time_zone: str = Field(default="UTC", min_length=1, max_length=64)
    """IANA zone used for day/week/month leaderboards and daily caps."""
    anonymous_leaderboards: bool = False
    """When true, non-admins see only their own id on leaderboards."""


class AccountOut(BaseModel):
    advocate_id: str
    balance: int
    """Points available to redeem (all entries, spending included)."""
    earned: int
    """Points ever earned (share and engagement entries, corrections included)."""
    shares: int
    """Rewardable shares counted so far."""
    streak_weeks: int


class LedgerEntryOut(BaseModel):
    id: int
    kind: str
    points: int
    engagement: int
    reach: int
    breakdown: dict[str, dict[str, int]]
    """Per action: the count change, points granted, and points before the daily cap."""
    rule_version: int | None
    event_id: str | None
    share_id: str | None
    redemption_id: int | None
    team_ids: list[str]
    hashtags: list[str]
    occurred_at: datetime
    recorded_at: datetime


class LedgerPage(BaseModel):
    entries: list[LedgerEntryOut]
    next_before_id: int | None
    """Pass as `before_id` for the next (older) page; null at the end."""


class BoardOut(BaseModel):
    metric: str
    scope: str
    """tenant, team:<id> or tag:<#hashtag>."""
    period: str
    bucket: str
    """all, m2026-03, w2026-03-02 (week of that Monday) or d2026-03-03."""
    time_zone: str

    @classmethod
    def of(cls, b: ResolvedBoard) -> BoardOut:
        return cls(
            metric=b.metric.value,
            scope=b.scope,
            period=b.period.value,
            bucket=b.bucket,
            time_zone=b.time_zone,
        )


class RankedOut(BaseModel):
    rank: int
    advocate_id: str | None
    """Null for other advocates when the tenant's leaderboards are anonymous."""
    value: int
    you: bool

    @classmethod
    def of(cls, r: Ranked) -> RankedOut:
        return cls(rank=r.rank, advocate_id=r.advocate_id, value=r.value, you=r.you)


class BoardPageOut(BaseModel):
    board: BoardOut
    total: int
    entries: list[RankedOut]


class StandingOut(BaseModel):
    board: BoardOut
    advocate_id: str
    rank: int | None
    value: int | None
    window: list[RankedOut]


class NewItem(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=2000)
    cost: int = Field(gt=0, le=10_000_000)
    """Points per unit."""
    stock: int = Field(ge=0, le=10_000_000)


class ItemChange(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    cost: int | None = Field(default=None, gt=0, le=10_000_000)
    active: bool | None = None
    restock: int = Field(default=0, ge=0, le=10_000_000)
    """Units to add to the stock (a delta, so it never races with redemptions)."""


class ItemOut(BaseModel):
    id: int
    name: str
    description: str
    cost: int
    stock: int
    active: bool
    created_at: datetime


class RedeemBody(BaseModel):
    item_id: int = Field(ge=1)


class RedemptionOut(BaseModel):
    id: int
    advocate_id: str
    item_id: int
    cost: int
    state: str
    """requested, fulfilled or cancelled."""
    idempotency_key: str | None
    requested_at: datetime
    updated_at: datetime
    updated_by: str | None
