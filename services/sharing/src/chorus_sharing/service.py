"""Use case: an advocate shares a feed item (now or scheduled). No HTTP, no SQL.

The order matters: everything that may call another system (guidelines check,
credentials) happens *before* the transaction, so no database lock is held
while waiting on the network; the transaction then decides atomically — cap
slot, duplicate rule, share row, tracked link and the `share.posted` outbox row
commit together or not at all.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from chorus_events.contracts.base import Network
from chorus_platform.identity import Identity

from chorus_sharing.connectors import CredentialStore, MemberCredentials, NetworkConnector
from chorus_sharing.domain import (
    DuplicateRule,
    FeedItem,
    PostVia,
    Share,
    ShareState,
    SharingPolicy,
    TrackedLink,
    cap_day,
)
from chorus_sharing.errors import (
    CaptionRejected,
    CaptionTooLong,
    ConnectorUnavailable,
    ContentHasNoLink,
    ContentNotShareable,
    DailyCapReached,
    DuplicateShare,
    FeedItemNotFound,
    InvalidShareRequest,
)
from chorus_sharing.events import share_posted, valid_event_ids
from chorus_sharing.guidelines import GuidelineChecker, Violation
from chorus_sharing.intents import compose_text, text_overflow
from chorus_sharing.links import campaign_name, destination_with_utm, new_link_code, tracked_url
from chorus_sharing.policies import PolicyService
from chorus_sharing.ports import ShareStore, ShareWork
from chorus_sharing.publishing import publish_through

MAX_SCHEDULE_AHEAD = timedelta(days=365)


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class ShareRequest:
    content_id: str
    network: Network
    caption: str | None = None
    scheduled_at: datetime | None = None
    audience_size: int | None = None
    via: PostVia = PostVia.INTENT


@dataclass(frozen=True)
class ShareOutcome:
    share: Share
    warnings: tuple[Violation, ...] = ()
    """Guideline findings of severity "warn": allowed, shown to the advocate."""


@dataclass
class DueShares:
    posted: int = 0
    cancelled: int = 0

    @property
    def handled(self) -> int:
        return self.posted + self.cancelled


def caption_digest(caption: str | None) -> str:
    """The "identical caption" key: whitespace-normalised and case-folded."""
    return hashlib.sha256(" ".join((caption or "").split()).casefold().encode()).hexdigest()


class ShareService:
    def __init__(
        self,
        store: ShareStore,
        checker: GuidelineChecker,
        *,
        policies: PolicyService,
        public_link_base: str,
        connectors: Mapping[Network, NetworkConnector] | None = None,
        credentials: CredentialStore | None = None,
        clock: Callable[[], datetime] = utcnow,
        new_code: Callable[[], str] = new_link_code,
    ) -> None:
        self.store = store
        self.checker = checker
        self.policies = policies
        self.public_link_base = public_link_base
        self.connectors = dict(connectors or {})
        self.credentials = credentials
        self.clock = clock
        self.new_code = new_code

    async def post_share(
        self, caller: Identity, caller_token: str, request: ShareRequest
    ) -> ShareOutcome:
        if not valid_event_ids(caller):
            raise InvalidShareRequest("the caller's id or team ids cannot be used in events")
        now = self.clock()
        item = await self._shareable_item(caller, request, now)
        policy = await self.policies.current(caller.tenant_id)
        link_url = item.link_url or policy.default_link_url
        if link_url is None:
            raise ContentHasNoLink(
                "this content has no link and the tenant has no default link",
                content_id=item.content_id,
            )
        caption = (request.caption or "").strip() or None
        final_text = compose_text(
            caption or _default_text(item, request.network),
            item.required_disclosure,
            item.campaign_hashtags,
        )
        overflow = text_overflow(request.network, final_text)
        if overflow:
            raise CaptionTooLong(
                f"the text is {overflow} characters too long for {request.network.value}",
                field="caption",
                over_by=overflow,
            )
        warnings: tuple[Violation, ...] = ()
        if caption is not None:
            verdict = await self.checker.check(
                text=caption, category=item.category, network=request.network,
                caller_token=caller_token,
            )  # fmt: skip
            if not verdict.ok:
                raise CaptionRejected(
                    "the caption breaks the tenant's guidelines",
                    field="caption",
                    violations=[v.model_dump() for v in verdict.violations],
                )
            warnings = verdict.warnings
        grant = await self._grant_for(caller, request)
        share = self._new_share(caller, request, item, caption, final_text, link_url, now)
        async with self.store.transaction() as work:
            await self._admit(work, share, policy)
            if share.state is ShareState.POSTED:
                if grant is not None:
                    share = await self._publish(share, grant)
                await work.insert_share(share, caption_digest(caption))
                await work.append_share_posted(share_posted(share, scheduled=False))
            else:
                await work.insert_share(share, caption_digest(caption))
        return ShareOutcome(share, warnings)

    async def publish_due(self, limit: int) -> DueShares:
        """Post the scheduled shares that are due (at most `limit`), in one transaction."""
        now = self.clock()
        result = DueShares()
        async with self.store.transaction() as work:
            for share in await work.claim_due(now, limit):
                item = await self.store.feed_item(share.tenant_id, share.content_id)
                if item is None or not item.live_at(now):
                    await work.mark_cancelled(share, "content is no longer shareable")
                    result.cancelled += 1
                    continue
                posted = replace(share, state=ShareState.POSTED, posted_at=now)
                if share.via is PostVia.API:
                    grant = await self._stored_grant(
                        share.tenant_id, share.advocate_id, share.network
                    )
                    if grant is None:
                        await work.mark_cancelled(share, "no network account connected")
                        result.cancelled += 1
                        continue
                    posted = await self._publish(posted, grant)
                await work.mark_posted(posted)
                await work.append_share_posted(share_posted(posted, scheduled=True))
                result.posted += 1
        return result

    # --- steps -----------------------------------------------------------------

    async def _shareable_item(
        self, caller: Identity, request: ShareRequest, now: datetime
    ) -> FeedItem:
        item = await self.store.feed_item(caller.tenant_id, request.content_id)
        # Content not targeted at the caller is as invisible as content that does not exist.
        if item is None or not item.visible_to(caller.team_ids):
            raise FeedItemNotFound(f"no content {request.content_id} in your feed")
        when = request.scheduled_at if _is_future(request.scheduled_at, now) else now
        assert when is not None
        if when - now > MAX_SCHEDULE_AHEAD:
            raise InvalidShareRequest(
                "scheduled_at is more than a year ahead", field="scheduled_at"
            )
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

    async def _grant_for(self, caller: Identity, request: ShareRequest) -> MemberCredentials | None:
        if request.via is PostVia.INTENT:
            return None
        grant = await self._stored_grant(caller.tenant_id, caller.principal_id, request.network)
        if grant is None:
            raise ConnectorUnavailable(
                f"no {request.network.value} account connected for posting through the API",
                network=request.network.value,
            )
        return grant

    async def _stored_grant(
        self, tenant_id: str, advocate_id: str, network: Network
    ) -> MemberCredentials | None:
        if network not in self.connectors or self.credentials is None:
            return None
        return await self.credentials.credentials(tenant_id, advocate_id, network)

    async def _publish(self, share: Share, grant: MemberCredentials) -> Share:
        post_id = await publish_through(self.connectors[share.network], share, grant)
        return replace(share, external_post_id=post_id)

    def _new_share(
        self,
        caller: Identity,
        request: ShareRequest,
        item: FeedItem,
        caption: str | None,
        final_text: str,
        link_url: str,
        now: datetime,
    ) -> Share:
        share_id = uuid.uuid4().hex
        code = self.new_code()
        destination = destination_with_utm(
            link_url,
            network=request.network,
            campaign=campaign_name(item.campaign_hashtags, item.content_id),
            share_id=share_id,
        )
        scheduled = _is_future(request.scheduled_at, now)
        return Share(
            tenant_id=caller.tenant_id,
            share_id=share_id,
            content_id=item.content_id,
            advocate_id=caller.principal_id,
            team_ids=tuple(sorted(caller.team_ids)),
            network=request.network,
            caption=caption,
            final_text=final_text,
            campaign_hashtags=item.campaign_hashtags,
            state=ShareState.SCHEDULED if scheduled else ShareState.POSTED,
            via=request.via,
            link=TrackedLink(code, tracked_url(self.public_link_base, code), destination),
            created_at=now,
            scheduled_at=request.scheduled_at if scheduled else None,
            posted_at=None if scheduled else now,
            audience_size=request.audience_size,
            content_title=item.title,
        )

    async def _admit(self, work: ShareWork, share: Share, policy: SharingPolicy) -> None:
        """Apply the tenant's rules inside the transaction, under the advocate's lock."""
        await work.lock_advocate(share.tenant_id, share.advocate_id)
        if policy.duplicate_rule is not DuplicateRule.OFF:
            digest = (
                caption_digest(share.caption)
                if policy.duplicate_rule is DuplicateRule.IDENTICAL
                else None
            )
            existing = await work.find_duplicate(share, digest)
            if existing is not None:
                raise DuplicateShare(
                    f"you already shared this content to {share.network.value}"
                    + (" with this caption" if digest else ""),
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


def _is_future(moment: datetime | None, now: datetime) -> bool:
    return moment is not None and moment > now


def _default_text(item: FeedItem, network: Network) -> str:
    """Without a personal caption: the first suggested caption for the network, else the title."""
    suggested = item.suggested_captions.get(network.value) or []
    return suggested[0] if suggested else item.title
