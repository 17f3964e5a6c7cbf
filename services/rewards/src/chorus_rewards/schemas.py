"""Request and response models of the HTTP API (limits as Field constraints)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, Field

from chorus_rewards.boards import Metric
from chorus_rewards.limits import (
    BIGINT_MAX,
    HASHTAG_PATTERN,
    ID_MAX_LENGTH,
    ID_PATTERN,
    TEXT_PATTERN,
)
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


class RankedOut(BaseModel):
    rank: int
    advocate_id: str | None
    """Null for other advocates when the tenant's leaderboards are anonymous."""
    value: int
    you: bool


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
    name: str = Field(min_length=1, max_length=200, pattern=TEXT_PATTERN)
    description: str = Field(default="", max_length=2000, pattern=TEXT_PATTERN)
    cost: int = Field(gt=0, le=10_000_000)
    """Points per unit."""
    stock: int = Field(ge=0, le=10_000_000)


class ItemChange(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=200, pattern=TEXT_PATTERN)
    description: str | None = Field(default=None, max_length=2000, pattern=TEXT_PATTERN)
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
    item_id: int = Field(ge=1, le=BIGINT_MAX)


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


class Prize(BaseModel):
    rank: int = Field(ge=1, le=1000)
    prize: str = Field(min_length=1, max_length=500, pattern=TEXT_PATTERN)


class NewContest(BaseModel):
    name: str = Field(min_length=1, max_length=200, pattern=TEXT_PATTERN)
    hashtag: str = Field(pattern=HASHTAG_PATTERN, max_length=140)
    metric: Metric = Metric.POINTS
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    prizes: list[Prize] = Field(default_factory=list, max_length=100)


class ContestOut(BaseModel):
    id: int
    name: str
    hashtag: str
    metric: str
    starts_at: datetime
    ends_at: datetime
    prizes: list[dict[str, Any]]
    state: str
    """scheduled (running or waiting to freeze) or frozen."""
    frozen_at: datetime | None
    ledger_high_id: int | None
    """Frozen results count the ledger entries with ids up to this one."""
    results: dict[str, Any] | None
    results_sha256: str | None


class ContestStanding(BaseModel):
    rank: int
    advocate_id: str
    value: int
    reached_at: str


class AuditOut(BaseModel):
    results_sha256: str
    recomputed_sha256: str
    matches: bool


class NewRaffle(BaseModel):
    name: str = Field(min_length=1, max_length=200, pattern=TEXT_PATTERN)
    hashtag: str = Field(pattern=HASHTAG_PATTERN, max_length=140)
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    winners: int = Field(default=1, ge=1, le=1000)


class RaffleOut(BaseModel):
    id: int
    name: str
    hashtag: str
    starts_at: datetime
    ends_at: datetime
    winners_count: int
    algorithm: str
    seed_sha256: str
    """Published when the raffle opens: sha256 (hex) of the UTF-8 seed."""
    state: str
    seed: str | None
    """Revealed at the draw."""
    entries: list[tuple[str, int]] | None
    """[advocate_id, weight] sorted by advocate id, weight = valid shares in the campaign."""
    entries_sha256: str | None
    winners: list[str] | None
    drawn_at: datetime | None


RaffleEntry = tuple[
    Annotated[str, Field(min_length=1, max_length=ID_MAX_LENGTH, pattern=ID_PATTERN)],
    Annotated[int, Field(ge=0, le=2**31 - 1)],
]
"""[advocate_id, weight]: weight = valid shares in the campaign."""


class VerifyRaffle(BaseModel):
    seed: str = Field(min_length=1, max_length=1000)
    entries: list[RaffleEntry] = Field(max_length=1_000_000)
    """[advocate_id, weight] pairs; weights of 0 are allowed (and dropped by the draw)."""
    winners: int = Field(ge=1, le=1000)
    seed_sha256: str | None = Field(default=None, pattern=r"^[0-9a-fA-F]{64}$")


class VerifyOut(BaseModel):
    algorithm: str
    winners: list[str]
    seed_matches_hash: bool | None
    entries_sha256: str


class BadgeOut(BaseModel):
    badge: str
    cause: str
    granted_at: datetime
