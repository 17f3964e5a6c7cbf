"""Points rules: defaults, the Facebook constraint, versions by event time, engagement values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from chorus_events.contracts.base import Network
from chorus_rewards.rules import (
    DEFAULT_RULES,
    Action,
    EngagementRates,
    PointsRules,
    RuleBook,
    RulesVersion,
    engagement_value,
)
from pydantic import ValidationError

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def test_defaults_pay_for_shares_except_on_facebook() -> None:
    assert DEFAULT_RULES.share_points(Network.LINKEDIN) == 10
    assert DEFAULT_RULES.share_points(Network.FACEBOOK) == 0
    assert DEFAULT_RULES.cap(Action.CLICK) == 200


def test_rules_that_reward_posting_on_facebook_are_rejected() -> None:
    with pytest.raises(ValidationError, match="forbids rewarding"):
        PointsRules(share={Network.FACEBOOK: 5})


def test_a_network_left_out_earns_nothing_and_overrides_apply_per_network() -> None:
    rules = PointsRules(
        share={Network.LINKEDIN: 7},
        engagement_by_network={Network.X: EngagementRates(click=5)},
    )
    assert rules.share_points(Network.X) == 0
    assert rules.rates(Network.X).click == 5
    assert rules.rates(Network.LINKEDIN).click == 1


def test_impressions_are_worth_points_per_thousand_floored() -> None:
    rates = EngagementRates(per_1000_impressions=3)
    assert engagement_value(Action.IMPRESSIONS, rates, 999) == 2  # 2.997
    assert engagement_value(Action.IMPRESSIONS, rates, 1000) == 3
    assert engagement_value(Action.COMMENT, rates, 4) == 8


def test_the_version_in_force_at_the_event_time_applies() -> None:
    book = RuleBook(
        [
            RulesVersion(version=2, effective_from=T0, rules=PointsRules(share={})),
            RulesVersion(version=1, effective_from=None, rules=DEFAULT_RULES),
            RulesVersion(
                version=3, effective_from=T0 + timedelta(days=1), rules=PointsRules(daily_caps={})
            ),
        ]
    )
    assert book.at(T0 - timedelta(seconds=1)).version == 1
    assert book.at(T0).version == 2
    assert book.at(T0 + timedelta(days=2)).version == 3
    assert book.latest.version == 3
