"""The reach calculator's formula on figures checked by hand."""

from __future__ import annotations

import pytest
from chorus_metrics.reach.calculator import FORMULA, ReachInputs, estimate


def test_program_of_1000_employees() -> None:
    # 1000 * 30% = 300 participants; * 2 shares = 600 shares/week; * 500 = 300,000 reach.
    result = estimate(
        ReachInputs(
            head_count=1000,
            participation_rate=0.3,
            average_network_size=500,
            shares_per_week=2,
            engagement_rate=0.02,
            cpm=8.0,
        )
    )
    assert result.participants == pytest.approx(300)
    assert result.weekly_shares == pytest.approx(600)
    assert result.weekly_reach == pytest.approx(300_000)
    assert result.yearly_reach == pytest.approx(15_600_000)
    assert result.weekly_engagements == pytest.approx(6_000)
    assert result.yearly_engagements == pytest.approx(312_000)
    assert result.weekly_media_value == pytest.approx(2_400)
    assert result.yearly_media_value == pytest.approx(124_800)


def test_visibility_rate_scales_reach_not_participation() -> None:
    base = ReachInputs(200, 0.5, 1000, 1, 0.1, 10.0)
    seen = ReachInputs(200, 0.5, 1000, 1, 0.1, 10.0, visibility_rate=0.1)
    assert estimate(seen).weekly_reach == pytest.approx(estimate(base).weekly_reach * 0.1)
    assert estimate(seen).participants == estimate(base).participants


def test_every_figure_has_its_formula() -> None:
    figures = estimate(ReachInputs(1, 1, 1, 1, 1, 1)).__dataclass_fields__
    assert set(FORMULA) == set(figures)
