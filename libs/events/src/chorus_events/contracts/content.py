"""Content library events: `content.approved` and `content.retired` (producer: content).

An approval is the full, self-contained state of a shareable piece of content at
one `version`, so a consumer can build its read model from this topic alone.
Re-approving edited content emits a new event with a higher `version`;
consumers keep the highest version they have seen.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Self

from pydantic import AwareDatetime, Field, PositiveInt, StringConstraints, model_validator

from chorus_events.contracts.base import (
    Caption,
    ContractModel,
    EventPayload,
    Hashtags,
    Id,
    LanguageTag,
    Network,
    Slug,
    TeamIds,
    Url,
)


class MediaKind(StrEnum):
    IMAGE = "image"
    VIDEO = "video"
    DOCUMENT = "document"


class MediaRef(ContractModel):
    """A reference to a media asset attached to the content (the bytes live elsewhere)."""

    kind: MediaKind
    url: Url
    """Where the asset can be fetched."""
    mime_type: Annotated[str, StringConstraints(max_length=127)] | None = None
    alt_text: Annotated[str, StringConstraints(max_length=1000)] | None = None
    """Accessibility text; networks that support it receive it with the post."""


class Audience(StrEnum):
    ALL = "all"
    """Every advocate of the tenant."""
    TEAMS = "teams"
    """Only members of the listed teams."""


class Targeting(ContractModel):
    """Who may see and share the content."""

    audience: Audience
    team_ids: TeamIds = ()
    """Required (non-empty) when audience is "teams"; must be empty for "all"."""

    @model_validator(mode="after")
    def _teams_match_audience(self) -> Self:
        if self.audience is Audience.TEAMS and not self.team_ids:
            raise ValueError('audience "teams" needs at least one team id')
        if self.audience is Audience.ALL and self.team_ids:
            raise ValueError('audience "all" takes no team ids')
        return self


SuggestedCaptions = Annotated[tuple[Caption, ...], Field(min_length=1, max_length=10)]


class ContentApproved(EventPayload):
    """Content became shareable (topic `content.approved`, key `tenant_id:content_id`)."""

    content_id: Id
    version: PositiveInt
    """Revision of the content; a re-approval after an edit carries a higher one."""
    title: Annotated[str, StringConstraints(min_length=1, max_length=300)]
    body: Annotated[str, StringConstraints(max_length=20000)]
    link_url: Url | None = None
    """The page the content promotes; sharing wraps it in a tracked link."""
    media: Annotated[tuple[MediaRef, ...], Field(max_length=20)] = ()
    category: Slug
    """Library category, e.g. "product_announcements", "thought_leadership"."""
    language: LanguageTag
    campaign_hashtags: Hashtags = ()
    suggested_captions: dict[Network, SuggestedCaptions] = Field(default_factory=dict)
    """Several ready-made captions per network; advocates may use or rewrite them."""
    required_disclosure: Annotated[str, StringConstraints(max_length=500)] | None = None
    """Text every share must include, e.g. "#employee" (from the content policy)."""
    targeting: Targeting
    publish_at: AwareDatetime
    """Not shareable before this instant (scheduled publishing)."""
    expires_at: AwareDatetime | None = None
    """Not shareable from this instant on; None means no expiry."""
    approved_by: Id
    """User id of the approver who made the final approval."""
    approved_at: AwareDatetime

    @model_validator(mode="after")
    def _expiry_after_publish(self) -> Self:
        if self.expires_at is not None and self.expires_at <= self.publish_at:
            raise ValueError("expires_at must be later than publish_at")
        return self


class RetirementReason(StrEnum):
    EXPIRED = "expired"
    """Its expires_at passed."""
    ARCHIVED = "archived"
    """An editor archived it; shares made so far stay valid."""
    WITHDRAWN = "withdrawn"
    """Pulled back (e.g. a mistake); consumers should hide it everywhere."""


class ContentRetired(EventPayload):
    """Content stopped being shareable (topic `content.retired`, key `tenant_id:content_id`)."""

    content_id: Id
    reason: RetirementReason
    retired_at: AwareDatetime
