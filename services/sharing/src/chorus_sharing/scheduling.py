"""Use case: post the scheduled shares that are due (run by the scheduler worker)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from chorus_sharing.domain import PostVia, ShareState
from chorus_sharing.events import share_posted
from chorus_sharing.ports import ShareStore
from chorus_sharing.publishing import ApiPosting


@dataclass
class DueShares:
    posted: int = 0
    cancelled: int = 0

    @property
    def handled(self) -> int:
        return self.posted + self.cancelled


class ScheduledShares:
    def __init__(
        self, store: ShareStore, api: ApiPosting, *, clock: Callable[[], datetime]
    ) -> None:
        self.store = store
        self.api = api
        self.clock = clock

    async def publish_due(self, limit: int) -> DueShares:
        """Post up to `limit` due shares in one transaction (see `scheduler` for why once)."""
        now = self.clock()
        result = DueShares()
        async with self.store.transaction() as work:
            for share in await work.claim_due(now, limit, self.api.connectors.keys()):
                item = await self.store.feed_item(share.tenant_id, share.content_id)
                if item is None or not item.live_at(now):
                    await work.mark_cancelled(share, "content is no longer shareable")
                    result.cancelled += 1
                    continue
                posted = replace(share, state=ShareState.POSTED, posted_at=now)
                if share.via is PostVia.API:
                    grant = await self.api.grant(share.tenant_id, share.advocate_id, share.network)
                    if grant is None:
                        await work.mark_cancelled(share, "no network account connected")
                        result.cancelled += 1
                        continue
                    posted = await self.api.publish(posted, grant)
                await work.mark_posted(posted)
                await work.append_share_posted(share_posted(posted, scheduled=True))
                result.posted += 1
        return result
