"""The click judge applies each fraud rule, in order, with late burst verdicts."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from chorus_metrics.fraud.judge import Click, ClickJudge, PastClick
from chorus_metrics.fraud.rules import (
    BotRule,
    BurstRule,
    FraudRules,
    Reason,
    SelfClickRule,
    UniqueClickRule,
)

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
BROWSER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36"


def click(
    visitor: str = "v1",
    *,
    seconds: float = 0,
    share: str = "s1",
    prefix: str | None = "203.0.113.0/24",
    ua: str | None = BROWSER,
    advocate: str = "adv-1",
) -> Click:
    return Click(
        uuid.uuid4(), share, advocate, T0 + timedelta(seconds=seconds), visitor, prefix, ua
    )


def reasons(judge: ClickJudge, clicks: list[Click]) -> list[Reason | None]:
    verdicts = {v.click_id: v.reason for v in judge.judge_all(clicks).verdicts}
    return [verdicts[c.click_id] for c in clicks]


def test_one_click_per_visitor_per_share_per_window() -> None:
    judge = ClickJudge(FraudRules(unique_click=UniqueClickRule(window_seconds=3600)))
    clicks = [
        click("v1"),
        click("v1", seconds=60),
        click("v1", seconds=3601),  # a new window
        click("v1", seconds=70, share="s2"),  # another share
        click("v2", seconds=80),
    ]
    assert reasons(judge, clicks) == [None, Reason.DUPLICATE, None, None, None]


def test_duplicate_of_a_click_stored_earlier() -> None:
    past = PastClick(uuid.uuid4(), "s1", T0 - timedelta(minutes=5), "v1", None, valid=True)
    judge = ClickJudge(FraudRules(), history=[past])
    assert reasons(judge, [click("v1")]) == [Reason.DUPLICATE]


def test_bots_by_the_crawler_dataset() -> None:
    judge = ClickJudge(FraudRules())
    clicks = [
        click("a", ua="Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)"),
        click("b", ua="python-requests/2.32.3"),
        click("c", ua="Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)"),
        click("d", ua=None),
        click("e", ua=BROWSER),
    ]
    assert reasons(judge, clicks) == [Reason.BOT] * 4 + [None]


def test_missing_user_agent_can_be_allowed() -> None:
    judge = ClickJudge(FraudRules(bot=BotRule(reject_missing_user_agent=False)))
    assert reasons(judge, [click(ua=None)]) == [None]


def test_self_click_only_for_the_share_s_own_advocate() -> None:
    judge = ClickJudge(FraudRules(), advocate_visitors={("adv-1", "own")})
    clicks = [click("own"), click("own", share="s2", advocate="adv-2")]
    assert reasons(judge, clicks) == [Reason.SELF_CLICK, None]
    off = ClickJudge(
        FraudRules(self_click=SelfClickRule(enabled=False)), advocate_visitors={("adv-1", "own")}
    )
    assert reasons(off, [click("own")]) == [None]


def test_burst_rejects_the_window_and_revokes_stored_clicks() -> None:
    rules = FraudRules(burst=BurstRule(max_clicks=3, window_seconds=10))
    stored = PastClick(uuid.uuid4(), "s1", T0, "v0", "203.0.113.0/24", valid=True)
    judge = ClickJudge(rules, history=[stored])
    clicks = [
        click("v1", seconds=1),
        click("v2", seconds=2),  # third click from the /24 within 10 s: burst
        click("v3", seconds=3),
        click("v4", seconds=30),  # the window has passed
        click("v5", seconds=2, prefix="198.51.100.0/24"),  # another network
    ]
    judgement = judge.judge_all(clicks)
    got = {v.click_id: v.reason for v in judgement.verdicts}
    assert [got[c.click_id] for c in clicks] == [
        Reason.BURST,  # counted first, then caught by the burst in the same batch
        Reason.BURST,
        Reason.BURST,
        None,
        None,
    ]
    assert [r.click_id for r in judgement.revocations] == [stored.click_id]


def test_rule_order_bot_before_self_click_before_burst_before_duplicate() -> None:
    rules = FraudRules(burst=BurstRule(max_clicks=2, window_seconds=60))
    judge = ClickJudge(rules, advocate_visitors={("adv-1", "own")})
    clicks = [
        click("v1"),
        click("v1", seconds=1),  # duplicate, but also the 2nd click of the prefix: burst
        click("own", seconds=2, ua="curl/8.5.0"),  # self-click by a bot: bot
        click("own", seconds=3),  # self-click inside the burst: self_click
    ]
    assert reasons(judge, clicks) == [Reason.BURST, Reason.BURST, Reason.BOT, Reason.SELF_CLICK]


def test_disabled_rules_reject_nothing() -> None:
    rules = FraudRules(
        unique_click=UniqueClickRule(enabled=False),
        bot=BotRule(enabled=False),
        burst=BurstRule(enabled=False, max_clicks=2),
    )
    judge = ClickJudge(rules)
    clicks = [click("v1", ua="curl/8.5.0"), click("v1", seconds=1), click("v1", seconds=2)]
    assert reasons(judge, clicks) == [None, None, None]
