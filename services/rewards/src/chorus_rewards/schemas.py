"""Request and response models of the HTTP API (limits as Field constraints)."""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, BaseModel, Field

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
