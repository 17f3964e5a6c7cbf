"""Request and response models of the public API (limits as Field constraints)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from chorus_events.contracts.base import Id, Network, Url
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, SecretStr, StringConstraints

from chorus_sharing.domain import (
    DuplicateRule,
    FeedItem,
    PostVia,
    Share,
    ShareState,
    SharingPolicy,
)
from chorus_sharing.guidelines import Violation
from chorus_sharing.intents import share_intent


class ShareCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    content_id: Id
    network: Network
    caption: Annotated[str, StringConstraints(max_length=3000)] | None = None
    """The advocate's personal text; checked against the tenant's guidelines."""
    scheduled_at: AwareDatetime | None = None
    """Post later (at most a year ahead); omitted or past means now."""
    audience_size: Annotated[int, Field(ge=0, le=1_000_000_000)] | None = None
    """Followers the advocate declares on that network (for estimated reach)."""
    via: PostVia = PostVia.INTENT


class LinkOut(BaseModel):
    code: str
    url: str
    destination_url: str


class IntentOut(BaseModel):
    url: str | None
    """The network's share page; null when the network has none (Instagram)."""
    prefilled_text: bool
    """False: the client offers `final_text` for copy and paste."""


class ShareOut(BaseModel):
    id: str
    content_id: str
    content_title: str
    advocate_id: str
    team_ids: list[str]
    network: Network
    via: PostVia
    state: ShareState
    caption: str | None
    final_text: str
    """Caption + required disclosure + campaign hashtags: what to post."""
    campaign_hashtags: list[str]
    audience_size: int | None
    created_at: datetime
    scheduled_at: datetime | None
    posted_at: datetime | None
    external_post_id: str | None
    link: LinkOut
    intent: IntentOut

    @classmethod
    def of(cls, share: Share) -> ShareOut:
        intent = share_intent(
            share.network, url=share.link.url, text=share.final_text, subject=share.content_title
        )
        return cls(
            id=share.share_id,
            content_id=share.content_id,
            content_title=share.content_title,
            advocate_id=share.advocate_id,
            team_ids=list(share.team_ids),
            network=share.network,
            via=share.via,
            state=share.state,
            caption=share.caption,
            final_text=share.final_text,
            campaign_hashtags=list(share.campaign_hashtags),
            audience_size=share.audience_size,
            created_at=share.created_at,
            scheduled_at=share.scheduled_at,
            posted_at=share.posted_at,
            external_post_id=share.external_post_id,
            link=LinkOut(
                code=share.link.code,
                url=share.link.url,
                destination_url=share.link.destination_url,
            ),
            intent=IntentOut(url=intent.url, prefilled_text=intent.prefilled_text),
        )


class ShareCreated(ShareOut):
    warnings: list[Violation] = []
    """Guideline findings that do not block the share (severity "warn")."""


class SharePage(BaseModel):
    items: list[ShareOut]
    next_cursor: str | None


class FeedItemOut(BaseModel):
    content_id: str
    version: int
    title: str
    body: str
    link_url: str | None
    media: list[dict[str, Any]]
    category: str
    language: str
    campaign_hashtags: list[str]
    suggested_captions: dict[str, list[str]]
    required_disclosure: str | None
    publish_at: datetime
    expires_at: datetime | None
    already_shared: bool
    shared_networks: list[Network]

    @classmethod
    def of(cls, item: FeedItem) -> FeedItemOut:
        return cls(
            content_id=item.content_id,
            version=item.version,
            title=item.title,
            body=item.body,
            link_url=item.link_url,
            media=[dict(m) for m in item.media],
            category=item.category,
            language=item.language,
            campaign_hashtags=list(item.campaign_hashtags),
            suggested_captions=item.suggested_captions,
            required_disclosure=item.required_disclosure,
            publish_at=item.publish_at,
            expires_at=item.expires_at,
            already_shared=bool(item.shared_networks),
            shared_networks=list(item.shared_networks),
        )


class FeedPage(BaseModel):
    items: list[FeedItemOut]
    next_cursor: str | None


class PolicyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    daily_cap: Annotated[int, Field(ge=1, le=1000)]
    """Shares per advocate per UTC day."""
    duplicate_rule: DuplicateRule = DuplicateRule.IDENTICAL
    default_link_url: Url | None = None

    def to_domain(self, tenant_id: str) -> SharingPolicy:
        return SharingPolicy(
            tenant_id=tenant_id,
            daily_cap=self.daily_cap,
            duplicate_rule=self.duplicate_rule,
            default_link_url=self.default_link_url,
        )


class PolicyOut(PolicyIn):
    tenant_id: str
    day_boundary: str = "UTC"
    updated_at: datetime | None
    updated_by: str | None

    @classmethod
    def of(cls, policy: SharingPolicy) -> PolicyOut:
        return cls(
            tenant_id=policy.tenant_id,
            daily_cap=policy.daily_cap,
            duplicate_rule=policy.duplicate_rule,
            default_link_url=policy.default_link_url,
            updated_at=policy.updated_at,
            updated_by=policy.updated_by,
        )


class ConnectionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    member_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
    """The member's id on the network (LinkedIn: the id of `urn:li:person:{id}`)."""
    access_token: Annotated[SecretStr, Field(min_length=1, max_length=4096)]


class ConnectionOut(BaseModel):
    network: Network
    member_id: str
    connected: bool
