"""What ingestion passes between its steps: share facts and per-share count changes."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

ShareKey = tuple[str, str]
"""(tenant_id, share_id)."""


@dataclass(frozen=True)
class ShareFacts:
    tenant_id: str
    share_id: str
    advocate_id: str
    network: str


@dataclass
class ShareChange:
    """What a batch adds to one share's totals (negative clicks: a late burst verdict)."""

    clicks: int = 0
    reactions: int = 0
    comments: int = 0
    reshares: int = 0
    impressions: int = 0
    impressions_reported: bool = False
    # A defaultdict, not a Counter: one per changed share, and Counter() costs ~10x more.
    rejected: defaultdict[str, int] = field(default_factory=lambda: defaultdict(int))

    def add(self, kind: str, amount: int) -> None:
        setattr(self, kind, getattr(self, kind) + amount)


class Changes(dict[ShareKey, ShareChange]):
    def of(self, key: ShareKey) -> ShareChange:
        change = self.get(key)
        if change is None:
            change = self[key] = ShareChange()
        return change
