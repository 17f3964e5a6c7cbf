"""Reach calculator, a pure function: inputs in, figures and the formula out.

Every figure is an estimate (Measurement.ESTIMATED): it says what a program of
this shape would reach, not what anyone measured.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

WEEKS_PER_YEAR: Final = 52

FORMULA: Final[dict[str, str]] = {
    "participants": "head_count * participation_rate",
    "weekly_shares": "participants * shares_per_week",
    "weekly_reach": "weekly_shares * average_network_size * visibility_rate",
    "yearly_reach": f"weekly_reach * {WEEKS_PER_YEAR}",
    "weekly_engagements": "weekly_reach * engagement_rate",
    "yearly_engagements": f"weekly_engagements * {WEEKS_PER_YEAR}",
    "weekly_media_value": "weekly_reach / 1000 * cpm",
    "yearly_media_value": "yearly_reach / 1000 * cpm",
}
"""Each output figure and how it is computed from the inputs and earlier figures."""


@dataclass(frozen=True)
class ReachInputs:
    head_count: int
    participation_rate: float
    """Share of employees who take part, 0..1."""
    average_network_size: float
    """Average connections/followers of a participant on the networks shared to."""
    shares_per_week: float
    """Shares per participant per week."""
    engagement_rate: float
    """Engagements per person reached, 0..1."""
    cpm: float
    """What paid media costs per 1,000 impressions."""
    visibility_rate: float = 1.0
    """Share of a network that sees a post, 0..1; 1.0 gives potential reach."""


@dataclass(frozen=True)
class ReachEstimate:
    participants: float
    weekly_shares: float
    weekly_reach: float
    yearly_reach: float
    weekly_engagements: float
    yearly_engagements: float
    weekly_media_value: float
    yearly_media_value: float


def estimate(inputs: ReachInputs) -> ReachEstimate:
    participants = inputs.head_count * inputs.participation_rate
    weekly_shares = participants * inputs.shares_per_week
    weekly_reach = weekly_shares * inputs.average_network_size * inputs.visibility_rate
    yearly_reach = weekly_reach * WEEKS_PER_YEAR
    weekly_engagements = weekly_reach * inputs.engagement_rate
    return ReachEstimate(
        participants=participants,
        weekly_shares=weekly_shares,
        weekly_reach=weekly_reach,
        yearly_reach=yearly_reach,
        weekly_engagements=weekly_engagements,
        yearly_engagements=weekly_engagements * WEEKS_PER_YEAR,
        weekly_media_value=weekly_reach / 1000 * inputs.cpm,
        yearly_media_value=yearly_reach / 1000 * inputs.cpm,
    )
