"""Valuing events: share points by network, daily caps, totals with a sequence guard."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chorus_events.contracts.base import Measurement, Network
from chorus_events.contracts.engagement import (
    EngagementDeltas,
    EngagementTotals,
    EngagementUpdated,
    MeasurementLabels,
)
from chorus_events.contracts.sharing import SharePosted
from chorus_rewards.accrual import Accrual, ShareProgress, TenantContext
from chorus_rewards.periods import zone
from chorus_rewards.rules import DEFAULT_RULES, PointsRules, RuleBook, RulesVersion

AT = datetime(2026, 3, 2, 22, 30, tzinfo=UTC)
COUNTERS = ("clicks", "reactions", "comments", "reshares", "impressions")
LABELS = MeasurementLabels(**dict.fromkeys(COUNTERS, Measurement.MEASURED))
CAPPED = PointsRules(daily_caps={"share": 15, "click": 10})  # type: ignore[dict-item]
CTX = TenantContext(
    "t1",
    zone("Europe/Berlin"),
    RuleBook([RulesVersion(version=1, effective_from=None, rules=CAPPED)]),
)


def _share(at: datetime = AT, network: Network = Network.LINKEDIN, sid: str = "s1") -> SharePosted:
    return SharePosted(
        tenant_id="t1", share_id=sid, content_id="c", advocate_id="a", network=network,
        link_code="abcd", tracked_url="https://g.o/abcd", destination_url="https://x.y/",
        posted_at=at,
    )  # fmt: skip


def _update(seq: int, clicks: int, impressions: int = 0, at: datetime = AT) -> EngagementUpdated:
    zero = dict(clicks=0, reactions=0, comments=0, reshares=0, impressions=0)
    return EngagementUpdated(
        tenant_id="t1", share_id="s1", content_id="c", advocate_id="a", network=Network.X,
        window_start=at - timedelta(minutes=5), window_end=at,
        deltas=EngagementDeltas(**zero),
        totals=EngagementTotals(**(zero | {"clicks": clicks, "impressions": impressions})),
        measurement=LABELS, sequence=seq,
    )  # fmt: skip


def test_share_points_stop_at_the_daily_cap_of_the_local_day() -> None:
    accrual = Accrual({})
    points = [accrual.share(CTX, f"e{i}", _share(sid=f"s{i}")).points for i in range(3)]
    assert points == [10, 5, 0]
    # 23:30 UTC is already the next day in Berlin: a fresh cap
    assert accrual.share(CTX, "e9", _share(AT + timedelta(hours=1), sid="s9")).points == 10


def test_facebook_shares_earn_nothing_by_default() -> None:
    book = RuleBook([RulesVersion(version=1, effective_from=None, rules=DEFAULT_RULES)])
    ctx = TenantContext("t1", zone("UTC"), book)
    assert Accrual({}).share(ctx, "e", _share(network=Network.FACEBOOK)).points == 0


def test_stale_sequences_are_ignored_and_totals_make_gaps_harmless() -> None:
    accrual, progress = Accrual({}), ShareProgress("t1", "s1", "a")
    first = accrual.engagement(CTX, "e1", _update(1, clicks=3), progress)
    assert first is not None and first.points == 3
    assert accrual.engagement(CTX, "e1b", _update(1, clicks=3), progress) is None
    jump = accrual.engagement(CTX, "e3", _update(3, clicks=6), progress)  # seq 2 never came
    assert jump is not None and jump.points == 3
    assert accrual.engagement(CTX, "e2", _update(2, clicks=5), progress) is None


def test_corrections_take_back_only_what_was_paid_after_the_cap() -> None:
    accrual, progress = Accrual({}), ShareProgress("t1", "s1", "a")
    capped = accrual.engagement(CTX, "e1", _update(1, clicks=25), progress)
    assert capped is not None and capped.points == 10
    assert capped.breakdown["click"] == {"count": 25, "points": 10, "uncapped": 25}
    fraud = accrual.engagement(CTX, "e2", _update(2, clicks=5), progress)  # 20 clicks removed
    assert fraud is not None and fraud.points == -10 and fraud.engagement == -20
    assert progress.paid[0] == 0


def test_impressions_earn_per_thousand_on_totals_without_rounding_drift() -> None:
    accrual, progress = Accrual({}), ShareProgress("t1", "s1", "a")
    got = [
        accrual.engagement(CTX, f"e{n}", _update(n, clicks=0, impressions=600 * n), progress)
        for n in range(1, 6)
    ]
    assert [e.points for e in got if e is not None] == [0, 1, 0, 1, 1]  # 0.6, 1.2, 1.8, 2.4, 3.0
    assert sum(e.reach for e in got if e is not None) == 3000
