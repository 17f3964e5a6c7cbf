"""The click judge: applies a tenant's fraud rules to clicks, pure and in memory.

The caller loads the relevant history (valid clicks of the same visitors on the
same shares within the unique window; every click of the same network prefixes
on the same shares within the burst window) and the advocates' known visitor
hashes, then feeds the new clicks in time order. The judge returns a verdict
per click and the *revocations*: clicks already stored as valid that a burst
recognised later turns into rejected ones (the negative corrections).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence, Set
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import NamedTuple
from uuid import UUID

from chorus_metrics.fraud.bots import is_crawler
from chorus_metrics.fraud.rules import FraudRules, Reason

# Value types of the judge: named tuples, built a few times per click at up to
# thousands of clicks per batch (a third of the cost of a frozen dataclass).


class Click(NamedTuple):
    click_id: UUID
    share_id: str
    advocate_id: str
    occurred_at: datetime
    visitor_hash: str
    ip_prefix: str | None
    user_agent: str | None


class PastClick(NamedTuple):
    """A click already stored with its verdict (status valid or rejected)."""

    click_id: UUID
    share_id: str
    occurred_at: datetime
    visitor_hash: str
    ip_prefix: str | None
    valid: bool


class Verdict(NamedTuple):
    click_id: UUID
    share_id: str
    reason: Reason | None

    @property
    def valid(self) -> bool:
        return self.reason is None


class Revocation(NamedTuple):
    """A stored valid click that a late burst verdict rejects."""

    click_id: UUID
    share_id: str


@dataclass
class Judgement:
    verdicts: list[Verdict] = field(default_factory=list)
    revocations: list[Revocation] = field(default_factory=list)


@dataclass
class _Seen:
    click_id: UUID
    occurred_at: datetime
    valid: bool
    stored: bool
    """True for history (stored before this batch), False for a click of this batch."""


class ClickJudge:
    def __init__(
        self,
        rules: FraudRules,
        *,
        advocate_visitors: Set[tuple[str, str]] = frozenset(),
        history: Iterable[PastClick] = (),
        is_bot: Callable[[str], bool] = is_crawler,
    ) -> None:
        """`advocate_visitors`: (advocate_id, visitor_hash) pairs known to be the advocate."""
        self.rules = rules
        self._advocate_visitors = advocate_visitors
        self._is_bot = is_bot
        self._by_visitor: dict[tuple[str, str], list[_Seen]] = {}
        self._by_prefix: dict[tuple[str, str], list[_Seen]] = {}
        for past in history:
            seen = _Seen(past.click_id, past.occurred_at, past.valid, stored=True)
            if past.valid:
                self._by_visitor.setdefault((past.share_id, past.visitor_hash), []).append(seen)
            if past.ip_prefix is not None:
                self._by_prefix.setdefault((past.share_id, past.ip_prefix), []).append(seen)

    def judge_all(self, clicks: Sequence[Click]) -> Judgement:
        """Judge `clicks` in time order. A click of this batch that a later burst in
        the same batch catches ends up rejected; only stored clicks are revocations."""
        result = Judgement()
        # Ties in time broken by click id (UUIDs order like their text, without it).
        ordered = sorted(clicks, key=lambda c: (c.occurred_at, c.click_id))
        reasons: dict[UUID, Reason | None] = {}
        for click in ordered:
            reason, caught = self._judge(click)
            reasons[click.click_id] = reason
            for seen in caught:
                if seen.stored:
                    result.revocations.append(Revocation(seen.click_id, click.share_id))
                else:
                    reasons[seen.click_id] = Reason.BURST
        result.verdicts = [Verdict(c.click_id, c.share_id, reasons[c.click_id]) for c in ordered]
        return result

    def _judge(self, click: Click) -> tuple[Reason | None, list[_Seen]]:
        rules = self.rules
        seen = _Seen(click.click_id, click.occurred_at, valid=False, stored=False)
        burst, caught = self._burst(click, seen)
        reason: Reason | None = None
        if rules.bot.enabled and self._bot(click.user_agent):
            reason = Reason.BOT
        elif (
            rules.self_click.enabled
            and (click.advocate_id, click.visitor_hash) in self._advocate_visitors
        ):
            reason = Reason.SELF_CLICK
        elif burst:
            reason = Reason.BURST
        elif rules.unique_click.enabled and self._duplicate(click):
            reason = Reason.DUPLICATE
        if reason is None:
            seen.valid = True
            self._by_visitor.setdefault((click.share_id, click.visitor_hash), []).append(seen)
        return reason, caught

    def _bot(self, user_agent: str | None) -> bool:
        if not user_agent:
            return self.rules.bot.reject_missing_user_agent
        return self._is_bot(user_agent)

    def _duplicate(self, click: Click) -> bool:
        window = timedelta(seconds=self.rules.unique_click.window_seconds)
        earlier = self._by_visitor.get((click.share_id, click.visitor_hash), ())
        # Symmetric, so a late-arriving earlier click is a duplicate of the one counted.
        return any(s.valid and abs(click.occurred_at - s.occurred_at) < window for s in earlier)

    def _burst(self, click: Click, seen: _Seen) -> tuple[bool, list[_Seen]]:
        """Record the click under its prefix; on a burst, return the counted clicks to take back."""
        if click.ip_prefix is None:
            return False, []
        entries = self._by_prefix.setdefault((click.share_id, click.ip_prefix), [])
        entries.append(seen)
        if not self.rules.burst.enabled:
            return False, []
        start = click.occurred_at - timedelta(seconds=self.rules.burst.window_seconds)
        in_window = [s for s in entries if start < s.occurred_at <= click.occurred_at]
        if len(in_window) < self.rules.burst.max_clicks:
            return False, []
        caught = [s for s in in_window if s.valid]
        for s in caught:
            s.valid = False
        return True, caught
