"""Use case: an advocate shares a feed item (now or scheduled). No HTTP, no SQL.

The order matters: everything that may call another system (guidelines check,
grant lookup) happens *before* the transaction, so no database lock is held
while waiting on the network; the transaction then decides atomically — cap
slot, duplicate rule, share row, tracked link and the `share.posted` outbox row
commit together or not at all.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from chorus_events.contracts.base import Network
from chorus_platform.identity import Identity
from chorus_platform.problems import ProblemError

from chorus_sharing.connectors import MemberCredentials
from chorus_sharing.domain import FeedItem, PostVia, Share, ShareState, TrackedLink
from chorus_sharing.errors import (
    CaptionRejected,
    CaptionTooLong,
    ConnectorUnavailable,
    ContentHasNoLink,
    InvalidShareRequest,
)
from chorus_sharing.events import share_posted, valid_event_ids
from chorus_sharing.guidelines import GuidelineChecker, Violation
from chorus_sharing.intents import compose_text, text_overflow
from chorus_sharing.links import campaign_name, destination_with_utm, new_link_code, tracked_url
from chorus_sharing.metrics import GUIDELINE_CHECK_LATENCY, SHARES, SHARES_REFUSED
from chorus_sharing.policies import PolicyService
from chorus_sharing.ports import ShareStore
from chorus_sharing.publishing import ApiPosting
from chorus_sharing.rules import admit, caption_digest, check_shareable


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


class ShareService:
    def __init__(
        self,
        store: ShareStore,
        checker: GuidelineChecker,
        *,
        policies: PolicyService,
        public_link_base: str,
        api: ApiPosting | None = None,
        clock: Callable[[], datetime] = utcnow,
        new_code: Callable[[], str] = new_link_code,
    ) -> None:
        self.store = store
        self.checker = checker
        self.policies = policies
        self.public_link_base = public_link_base
        self.api = api or ApiPosting()
        self.clock = clock
        self.new_code = new_code

    async def post_share(
        self, caller: Identity, caller_token: str, request: ShareRequest
    ) -> ShareOutcome:
        try:
            outcome = await self._post_share(caller, caller_token, request)
        except ProblemError as refused:
            if refused.status < 500:
                SHARES_REFUSED.labels(refused.type_slug).inc()
            raise
        SHARES.labels(request.network.value, outcome.share.state.value).inc()
        return outcome

    async def _post_share(
        self, caller: Identity, caller_token: str, request: ShareRequest
    ) -> ShareOutcome:
        if not valid_event_ids(caller):
            raise InvalidShareRequest("the caller's id or team ids cannot be used in events")
        now = self.clock()
        scheduled = request.scheduled_at is not None and request.scheduled_at > now
        when = request.scheduled_at if request.scheduled_at and scheduled else now
        item = check_shareable(
            await self.store.feed_item(caller.tenant_id, request.content_id),
            caller, request.content_id, when=when, now=now,
        )  # fmt: skip
        policy = await self.policies.current(caller.tenant_id)
        link_url = item.link_url or policy.default_link_url
        if link_url is None:
            raise ContentHasNoLink(
                "this content has no link and the tenant has no default link",
                content_id=item.content_id,
            )
        caption = (request.caption or "").strip() or None
        final_text = self._final_text(item, request.network, caption)
        warnings = await self._check_caption(
            caption, final_text, item, request.network, caller_token
        )
        grant = await self._grant_for(caller, request)
        share = self._new_share(caller, request, item, caption, final_text, link_url, now, when)
        async with self.store.transaction() as work:
            await admit(work, share, policy)
            if share.state is ShareState.POSTED and grant is not None:
                share = await self.api.publish(share, grant)
            await work.insert_share(share, caption_digest(caption))
            if share.state is ShareState.POSTED:
                await work.append_share_posted(share_posted(share, scheduled=False))
        return ShareOutcome(share, warnings)

    # --- steps -----------------------------------------------------------------

    def _final_text(self, item: FeedItem, network: Network, caption: str | None) -> str:
        # Without a personal caption: the approved suggested caption for the
        # network, else the title (both approved with the content: no check).
        suggested = item.suggested_captions.get(network.value) or [item.title]
        text = compose_text(
            caption or suggested[0], item.required_disclosure, item.campaign_hashtags
        )
        overflow = text_overflow(network, text)
        if overflow:
            raise CaptionTooLong(
                f"the text is {overflow} characters too long for {network.value}",
                field="caption",
                over_by=overflow,
            )
        return text

    async def _check_caption(
        self,
        caption: str | None,
        final_text: str,
        item: FeedItem,
        network: Network,
        caller_token: str,
    ) -> tuple[Violation, ...]:
        """Check what will be posted — the final text — when the advocate wrote a caption.

        The final text starts with the caption verbatim, so offsets of findings in
        the caption are offsets into the caption. Checking the caption alone would
        be wrong: given the category, the content service requires the disclosure,
        which sharing appends to the caption and a bare caption lacks. Without a
        caption the text is the approved suggested caption or title: nothing new.
        """
        if caption is None:
            return ()
        with GUIDELINE_CHECK_LATENCY.time():
            verdict = await self.checker.check(
                text=final_text, category=item.category, network=network, caller_token=caller_token
            )
        if not verdict.ok:
            raise CaptionRejected(
                "the caption breaks the tenant's guidelines",
                field="caption",
                violations=[v.model_dump() for v in verdict.violations],
            )
        return verdict.warnings

    async def _grant_for(self, caller: Identity, request: ShareRequest) -> MemberCredentials | None:
        if request.via is PostVia.INTENT:
            return None
        grant = await self.api.grant(caller.tenant_id, caller.principal_id, request.network)
        if grant is None:
            raise ConnectorUnavailable(
                f"no {request.network.value} account connected for posting through the API",
                network=request.network.value,
            )
        return grant

    def _new_share(
        self,
        caller: Identity,
        request: ShareRequest,
        item: FeedItem,
        caption: str | None,
        final_text: str,
        link_url: str,
        now: datetime,
        when: datetime,
    ) -> Share:
        share_id = uuid.uuid4().hex
        code = self.new_code()
        destination = destination_with_utm(
            link_url,
            network=request.network,
            campaign=campaign_name(item.campaign_hashtags, item.content_id),
            share_id=share_id,
        )
        scheduled = when > now
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
            scheduled_at=when if scheduled else None,
            posted_at=None if scheduled else now,
            audience_size=request.audience_size,
            content_title=item.title,
        )
