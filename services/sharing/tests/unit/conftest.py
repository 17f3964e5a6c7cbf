"""In-memory fakes of the sharing service's own ports (never of the engines)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Collection
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta

import pytest
from chorus_events.contracts.base import Network
from chorus_events.contracts.content import Audience
from chorus_events.contracts.sharing import SharePosted
from chorus_sharing.domain import FeedItem, PostVia, Share, ShareState, SharingPolicy
from chorus_sharing.guidelines import GuidelineVerdict, Violation
from chorus_sharing.policies import PolicyService
from chorus_sharing.ports import FeedQuery, ShareQuery
from chorus_sharing.publishing import ApiPosting
from chorus_sharing.scheduling import ScheduledShares
from chorus_sharing.service import ShareService

NOW = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)


@dataclass
class _State:
    shares: dict[str, tuple[Share, str]] = field(default_factory=dict)
    counts: dict[tuple[str, str, date], int] = field(default_factory=dict)
    events: list[SharePosted] = field(default_factory=list)

    def copy(self) -> _State:
        return _State(dict(self.shares), dict(self.counts), list(self.events))


class FakeWork:
    """Works on a copy of the state; the store swaps it in on commit."""

    def __init__(self, state: _State) -> None:
        self.state = state

    async def lock_advocate(self, tenant_id: str, advocate_id: str) -> None:
        return None

    async def take_cap_slot(self, tenant_id: str, advocate_id: str, day: date, cap: int) -> bool:
        key = (tenant_id, advocate_id, day)
        if self.state.counts.get(key, 0) >= cap:
            return False
        self.state.counts[key] = self.state.counts.get(key, 0) + 1
        return True

    async def find_duplicate(self, share: Share, caption_digest: str | None) -> str | None:
        for other, digest in self.state.shares.values():
            same = (other.tenant_id, other.advocate_id, other.content_id, other.network) == (
                share.tenant_id, share.advocate_id, share.content_id, share.network,
            )  # fmt: skip
            live = other.state is not ShareState.CANCELLED
            if same and live and (caption_digest is None or digest == caption_digest):
                return other.share_id
        return None

    async def insert_share(self, share: Share, caption_digest: str) -> None:
        self.state.shares[share.share_id] = (share, caption_digest)

    async def claim_due(
        self, now: datetime, limit: int, api_networks: Collection[Network]
    ) -> list[Share]:
        due = [
            s
            for s, _ in self.state.shares.values()
            if s.state is ShareState.SCHEDULED
            and s.scheduled_at
            and s.scheduled_at <= now
            and (s.via is PostVia.INTENT or s.network in api_networks)
        ]
        return sorted(due, key=lambda s: s.scheduled_at or now)[:limit]

    async def mark_posted(self, share: Share) -> None:
        digest = self.state.shares[share.share_id][1]
        self.state.shares[share.share_id] = (share, digest)

    async def mark_cancelled(self, share: Share, reason: str) -> None:
        digest = self.state.shares[share.share_id][1]
        self.state.shares[share.share_id] = (replace(share, state=ShareState.CANCELLED), digest)

    async def append_share_posted(self, payload: SharePosted) -> None:
        self.state.events.append(payload)


class FakeStore:
    def __init__(self) -> None:
        self.items: dict[tuple[str, str], FeedItem] = {}
        self.policies: dict[str, SharingPolicy] = {}
        self.state = _State()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[FakeWork]:
        work = FakeWork(self.state.copy())
        yield work  # an exception propagates here and the copy is dropped: rollback
        self.state = work.state

    @property
    def events(self) -> list[SharePosted]:
        return self.state.events

    def share_rows(self) -> list[Share]:
        return [s for s, _ in self.state.shares.values()]

    async def feed_item(self, tenant_id: str, content_id: str) -> FeedItem | None:
        return self.items.get((tenant_id, content_id))

    async def feed_page(self, query: FeedQuery) -> list[FeedItem]:
        raise NotImplementedError("feed queries are covered by the integration tests")

    async def share(self, tenant_id: str, share_id: str) -> Share | None:
        found = self.state.shares.get(share_id)
        return found[0] if found and found[0].tenant_id == tenant_id else None

    async def shares(self, query: ShareQuery) -> list[Share]:
        raise NotImplementedError("share listing is covered by the integration tests")

    async def policy(self, tenant_id: str) -> SharingPolicy | None:
        return self.policies.get(tenant_id)

    async def save_policy(self, policy: SharingPolicy) -> None:
        self.policies[policy.tenant_id] = policy


class FakeChecker:
    """Blocks any caption containing a word from `blocked`; records what it was asked."""

    def __init__(self, blocked: tuple[str, ...] = ("confidential",)) -> None:
        self.blocked = blocked
        self.calls: list[tuple[str, str, Network, str]] = []

    async def check(
        self, *, text: str, category: str, network: Network, caller_token: str
    ) -> GuidelineVerdict:
        self.calls.append((text, category, network, caller_token))
        found = [
            Violation(
                kind="blocked_term",
                severity="block",
                start=text.lower().index(word),
                end=text.lower().index(word) + len(word),
                text=word,
                message=f"'{word}' may not be shared",
                suggestion=None,
            )
            for word in self.blocked
            if word in text.lower()
        ]
        return GuidelineVerdict(ok=not found, violations=tuple(found))


class Clock:
    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


def feed_item(
    content_id: str = "c1",
    *,
    tenant_id: str = "t1",
    audience: Audience = Audience.ALL,
    team_ids: tuple[str, ...] = (),
    link_url: str | None = "https://example.com/launch?ref=home",
    hashtags: tuple[str, ...] = ("#ChorusLaunch",),
    disclosure: str | None = "#employee",
    expires_at: datetime | None = None,
    retired: bool = False,
) -> FeedItem:
    return FeedItem(
        tenant_id=tenant_id,
        content_id=content_id,
        version=1,
        title="Chorus 2.0 is out",
        body="Body",
        link_url=link_url,
        category="product_announcements",
        language="en",
        campaign_hashtags=hashtags,
        suggested_captions={"x": ["Chorus 2.0 is here"]},
        required_disclosure=disclosure,
        audience=audience,
        team_ids=team_ids,
        publish_at=NOW - timedelta(days=1),
        expires_at=expires_at,
        approved_at=NOW - timedelta(days=1),
        retired=retired,
    )


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store() -> FakeStore:
    return FakeStore()


@pytest.fixture
def checker() -> FakeChecker:
    return FakeChecker()


@pytest.fixture
def service(store: FakeStore, checker: FakeChecker, clock: Clock) -> ShareService:
    codes = iter(f"code{n:08d}" for n in range(1000))
    return ShareService(
        store,
        checker,
        policies=PolicyService(store, default_daily_cap=3, clock=clock),
        public_link_base="https://go.example.com",
        clock=clock,
        new_code=lambda: next(codes),
    )


@pytest.fixture
def make_item() -> Callable[..., FeedItem]:
    """Builds a feed item of tenant t1, published a day before the fixed clock."""
    return feed_item


@pytest.fixture
def scheduled(store: FakeStore, clock: Clock) -> ScheduledShares:
    return ScheduledShares(store, ApiPosting(), clock=clock)
