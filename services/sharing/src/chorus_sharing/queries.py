"""Read use cases: the advocate's feed and shares, tenant-scoped, keyset-paginated."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from chorus_events.contracts.base import Network
from chorus_platform.identity import Identity

from chorus_sharing.domain import FeedItem, Share, ShareState
from chorus_sharing.errors import ShareNotFound
from chorus_sharing.pagination import decode_cursor, encode_cursor
from chorus_sharing.ports import FeedQuery, ShareQuery, ShareStore

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


@dataclass(frozen=True)
class ShareFilter:
    advocate_id: str | None = None
    content_id: str | None = None
    network: Network | None = None
    state: ShareState | None = None


class SharingQueries:
    def __init__(self, store: ShareStore, *, clock: Callable[[], datetime]) -> None:
        self.store = store
        self.clock = clock

    async def feed(
        self,
        caller: Identity,
        *,
        limit: int,
        category: str | None = None,
        campaign: str | None = None,
        cursor: str | None = None,
    ) -> Page[FeedItem]:
        query = FeedQuery(
            tenant_id=caller.tenant_id,
            advocate_id=caller.principal_id,
            team_ids=caller.team_ids,
            now=self.clock(),
            limit=limit + 1,  # one more tells whether there is a next page
            category=category,
            campaign=campaign.lstrip("#").lower() if campaign else None,
            after=decode_cursor(cursor),
        )
        items = await self.store.feed_page(query)
        return _page(items, limit, lambda i: (i.publish_at, i.content_id))

    async def shares(
        self,
        caller: Identity,
        *,
        whole_tenant: bool,
        limit: int,
        filters: ShareFilter,
        cursor: str | None = None,
    ) -> Page[Share]:
        """`whole_tenant` (admins, systems): every advocate's shares; else the caller's own."""
        query = ShareQuery(
            tenant_id=caller.tenant_id,
            limit=limit + 1,
            advocate_id=filters.advocate_id if whole_tenant else caller.principal_id,
            content_id=filters.content_id,
            network=filters.network,
            state=filters.state,
            after=decode_cursor(cursor),
        )
        shares = await self.store.shares(query)
        return _page(shares, limit, lambda s: (s.created_at, s.share_id))

    async def share(self, caller: Identity, share_id: str, *, whole_tenant: bool) -> Share:
        found = await self.store.share(caller.tenant_id, share_id)
        # Someone else's share is as absent as a missing one (no existence oracle).
        if found is None or (not whole_tenant and found.advocate_id != caller.principal_id):
            raise ShareNotFound(f"no share {share_id}")
        return found


def _page(rows: list[T], limit: int, key: Callable[[T], tuple[datetime, str]]) -> Page[T]:
    if len(rows) <= limit:
        return Page(rows, None)
    items = rows[:limit]
    return Page(items, encode_cursor(*key(items[-1])))
