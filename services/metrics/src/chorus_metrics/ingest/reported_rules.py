"""What a network-reported observation adds to its share: pure rules.

- A share not known yet holds the observation (`pending`) until it arrives.
- An observation whose network differs from the share's is rejected
  (`network_mismatch`): a connector mixed up its posts.
- An increment (webhook) adds its count. A running total (polling) adds its
  difference to the previous total of the same connector, share and kind, so
  polling twice counts once; an older total than the last one seen adds nothing
  (`stale_total`). Totals may go down (an unlike): the difference is negative.
- Comments with text get a sentiment and their hashtags, whatever their status.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from chorus_metrics.fraud.rules import Reason
from chorus_metrics.ingest.model import ShareFacts
from chorus_metrics.text import hashtags
from chorus_metrics.text.sentiment import analyse

STALE_TOTAL = "stale_total"
TotalKey = tuple[str, str, str]
"""(source, share_id, kind)."""


@dataclass(frozen=True)
class ReportedItem:
    source: str
    source_event_id: str
    share_id: str | None
    network: str
    network_post_ref: str | None
    kind: str
    count: int
    cumulative: bool
    comment_text: str | None
    occurred_at: datetime

    @property
    def key(self) -> tuple[str, str]:
        return (self.source, self.source_event_id)


@dataclass(frozen=True)
class RunningTotal:
    value: int
    observed_at: datetime


@dataclass(frozen=True)
class TextFacts:
    """Language, sentiment and hashtags of a comment's text."""

    language: str | None = None
    sentiment_score: float | None = None
    sentiment_label: str | None = None
    hashtags: tuple[str, ...] = ()


NO_TEXT = TextFacts()


@dataclass(frozen=True)
class Outcome:
    item: ReportedItem
    share_id: str | None
    status: str
    reason: str | None
    applied: int
    text: TextFacts = NO_TEXT

    @property
    def counted(self) -> bool:
        return self.status == "valid" and self.applied != 0


def evaluate(
    items: Sequence[ReportedItem],
    shares: Mapping[str, ShareFacts],
    totals: dict[TotalKey, RunningTotal],
    *,
    resolved: Mapping[tuple[str, str], str] | None = None,
    analyse_text: bool = True,
) -> list[Outcome]:
    """Outcomes of `items` (one tenant) in time order; updates `totals` in place.

    `shares`: the tenant's known shares by id; `resolved`: share ids of
    (network, post_ref) pairs for items that name the post rather than the share.
    """
    outcomes = []
    for item in sorted(items, key=lambda i: (i.occurred_at, i.source, i.source_event_id)):
        share_id = item.share_id
        if share_id is None and item.network_post_ref is not None and resolved:
            share_id = resolved.get((item.network, item.network_post_ref))
        text = _text_facts(item) if analyse_text else NO_TEXT
        share = shares.get(share_id) if share_id else None
        if share is None:
            outcomes.append(Outcome(item, share_id, "pending", None, 0, text))
        elif share.network != item.network:
            outcomes.append(
                Outcome(item, share_id, "rejected", Reason.NETWORK_MISMATCH.value, 0, text)
            )
        elif not item.cumulative:
            outcomes.append(Outcome(item, share_id, "valid", None, item.count, text))
        else:
            key = (item.source, share.share_id, item.kind)
            previous = totals.get(key)
            if previous is not None and item.occurred_at <= previous.observed_at:
                outcomes.append(Outcome(item, share_id, "rejected", STALE_TOTAL, 0, text))
                continue
            totals[key] = RunningTotal(item.count, item.occurred_at)
            applied = item.count - (previous.value if previous else 0)
            outcomes.append(Outcome(item, share_id, "valid", None, applied, text))
    return outcomes


def _text_facts(item: ReportedItem) -> TextFacts:
    if not item.comment_text:
        return NO_TEXT
    sentiment = analyse(item.comment_text)
    return TextFacts(
        sentiment.language,
        sentiment.score,
        sentiment.label.value,
        tuple(hashtags.extract(item.comment_text)),
    )
