"""The service layer's ports: what use cases need from storage, as protocols.

Postgres adapters live in `repository/`; unit tests use in-memory fakes of these.
"""

from __future__ import annotations

from collections.abc import Collection
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from chorus_events.contracts.base import Network
from chorus_events.contracts.sharing import SharePosted

from chorus_sharing.domain import FeedItem, Share, ShareState, SharingPolicy


@dataclass(frozen=True)
class FeedQuery:
    tenant_id: str
    advocate_id: str
    team_ids: frozenset[str]
    now: datetime
    limit: int
    category: str | None = None
    campaign: str | None = None
    """Lowercased hashtag without '#'."""
    after: tuple[datetime, str] | None = None
    """Keyset cursor: (publish_at, content_id) of the last item of the previous page."""


@dataclass(frozen=True)
class ShareQuery:
    tenant_id: str
    limit: int
    advocate_id: str | None = None
    """None: every advocate of the tenant (admins and systems only)."""
    content_id: str | None = None
    network: Network | None = None
    state: ShareState | None = None
    after: tuple[datetime, str] | None = None
    """Keyset cursor: (created_at, share_id) of the last share of the previous page."""


class ShareWork(Protocol):
    """What one share transaction can do; everything commits or rolls back together."""

    async def lock_advocate(self, tenant_id: str, advocate_id: str) -> None:
        """Serialise this advocate's share transactions until commit."""

    async def take_cap_slot(self, tenant_id: str, advocate_id: str, day: date, cap: int) -> bool:
        """Count one share on `day`; False (and nothing counted) if `cap` is reached."""

    async def find_duplicate(self, share: Share, caption_digest: str | None) -> str | None:
        """Id of a live share of the same advocate, content and network (and caption
        digest, when given); None if there is none."""

    async def insert_share(self, share: Share, caption_digest: str) -> None: ...

    async def claim_due(
        self, now: datetime, limit: int, api_networks: Collection[Network]
    ) -> list[Share]:
        """Scheduled shares due at `now`, locked for this transaction (others skip them):
        every intent share, and API shares only to networks in `api_networks`."""

    async def mark_posted(self, share: Share) -> None: ...

    async def mark_cancelled(self, share: Share, reason: str) -> None: ...

    async def append_share_posted(self, payload: SharePosted) -> None: ...


class ShareStore(Protocol):
    def transaction(self) -> AbstractAsyncContextManager[ShareWork]: ...

    async def feed_item(self, tenant_id: str, content_id: str) -> FeedItem | None: ...

    async def feed_page(self, query: FeedQuery) -> list[FeedItem]: ...

    async def share(self, tenant_id: str, share_id: str) -> Share | None: ...

    async def shares(self, query: ShareQuery) -> list[Share]: ...

    async def policy(self, tenant_id: str) -> SharingPolicy | None: ...

    async def save_policy(self, policy: SharingPolicy) -> None: ...
