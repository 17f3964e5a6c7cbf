"""The rules a share must pass: shareable content, the tenant's duplicate rule and cap.

`check_shareable` runs before the transaction (pure); `admit` runs inside it,
under the advocate's lock, so its reads and the cap slot it takes are atomic
with the share row.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from chorus_platform.identity import Identity

from chorus_sharing.domain import DuplicateRule, FeedItem, Share, SharingPolicy, cap_day
from chorus_sharing.errors import (
    ContentNotShareable,
    DailyCapReached,
    DuplicateShare,
    FeedItemNotFound,
    InvalidShareRequest,
)
from chorus_sharing.ports import ShareWork

MAX_SCHEDULE_AHEAD = timedelta(days=365)


def caption_digest(caption: str | None) -> str:
    """The "identical caption" key: whitespace-normalised and case-folded."""
    return hashlib.sha256(" ".join((caption or "").split()).casefold().encode()).hexdigest()


def check_shareable(
    item: FeedItem | None, caller: Identity, content_id: str, *, when: datetime, now: datetime
) -> FeedItem:
    """`item` if the caller may share it at `when` (now, or the scheduled time)."""
    # Content not targeted at the caller is as invisible as content that does not exist.
    if item is None or not item.visible_to(caller.team_ids):
        raise FeedItemNotFound(f"no content {content_id} in your feed")
    if when - now > MAX_SCHEDULE_AHEAD:
        raise InvalidShareRequest("scheduled_at is more than a year ahead", field="scheduled_at")
    if item.retired:
        raise ContentNotShareable("this content was retired", content_id=item.content_id)
    if not item.live_at(now) and item.publish_at <= now:
        raise ContentNotShareable("this content has expired", content_id=item.content_id)
    if not item.live_at(when):
        raise ContentNotShareable(
            "this content is not shareable at that time",
            content_id=item.content_id,
            publish_at=item.publish_at.isoformat(),
            expires_at=item.expires_at.isoformat() if item.expires_at else None,
        )
    return item


async def admit(work: ShareWork, share: Share, policy: SharingPolicy) -> None:
    """Apply the tenant's rules inside the share's transaction (raises to refuse).

    Duplicates are checked before the cap, so a refused duplicate takes no slot.
    """
    await work.lock_advocate(share.tenant_id, share.advocate_id)
    if policy.duplicate_rule is not DuplicateRule.OFF:
        identical = policy.duplicate_rule is DuplicateRule.IDENTICAL
        digest = caption_digest(share.caption) if identical else None
        existing = await work.find_duplicate(share, digest)
        if existing is not None:
            raise DuplicateShare(
                f"you already shared this content to {share.network.value}"
                + (" with this caption" if identical else ""),
                existing_share_id=existing,
                rule=policy.duplicate_rule.value,
            )
    day = cap_day(share.scheduled_at or share.created_at)
    if not await work.take_cap_slot(share.tenant_id, share.advocate_id, day, policy.daily_cap):
        resets = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
        raise DailyCapReached(
            f"you reached today's limit of {policy.daily_cap} shares",
            daily_cap=policy.daily_cap,
            day=day.isoformat(),
            resets_at=resets.isoformat(),
        )
