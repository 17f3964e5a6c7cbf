"""What a reported observation adds to its share: pure rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chorus_metrics.ingest.model import ShareFacts
from chorus_metrics.ingest.reported_rules import ReportedItem, RunningTotal, evaluate

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SHARES = {"s1": ShareFacts("acme", "s1", "adv-1", "linkedin")}


def item(
    seid: str,
    count: int,
    *,
    minutes: int = 0,
    cumulative: bool = False,
    share: str | None = "s1",
    network: str = "linkedin",
    ref: str | None = None,
    text: str | None = None,
    kind: str = "reactions",
) -> ReportedItem:
    return ReportedItem(
        "li",
        seid,
        share,
        network,
        ref,
        kind,
        count,
        cumulative,
        text,
        T0 + timedelta(minutes=minutes),
    )


def test_increments_add_and_unknown_shares_wait() -> None:
    outcomes = evaluate([item("a", 3), item("b", 2, share="s9")], SHARES, {})
    assert [(o.status, o.applied) for o in outcomes] == [("valid", 3), ("pending", 0)]


def test_running_totals_add_their_difference_in_time_order() -> None:
    totals: dict[tuple[str, str, str], RunningTotal] = {}
    outcomes = evaluate(
        [
            item("t2", 150, minutes=2, cumulative=True),
            item("t1", 100, minutes=1, cumulative=True),
            item("t3", 140, minutes=3, cumulative=True),  # an unlike: the total went down
        ],
        SHARES,
        totals,
    )
    assert [(o.item.source_event_id, o.applied) for o in outcomes] == [
        ("t1", 100),
        ("t2", 50),
        ("t3", -10),
    ]
    assert totals[("li", "s1", "reactions")] == RunningTotal(140, T0 + timedelta(minutes=3))
    stale = evaluate([item("t0", 90, minutes=0, cumulative=True)], SHARES, totals)
    assert (stale[0].status, stale[0].reason, stale[0].applied) == ("rejected", "stale_total", 0)


def test_wrong_network_is_rejected_and_post_refs_resolve() -> None:
    outcomes = evaluate(
        [item("x", 5, network="x"), item("r", 1, share=None, ref="urn:li:share:1")],
        SHARES,
        {},
        resolved={("linkedin", "urn:li:share:1"): "s1"},
    )
    assert [(o.status, o.reason, o.share_id) for o in outcomes] == [
        ("valid", None, "s1"),  # outcomes come in time order, then by event id
        ("rejected", "network_mismatch", "s1"),
    ]


def test_comment_text_gets_sentiment_and_hashtags() -> None:
    [outcome] = evaluate(
        [item("c", 1, kind="comments", text="Brilliant launch! #Chorus2")], SHARES, {}
    )
    assert outcome.text.sentiment_label == "positive"
    assert outcome.text.hashtags == ("#chorus2",)
