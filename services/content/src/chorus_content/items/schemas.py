"""Request and response models of content items; limits are Field constraints (422 names
the field). The limits sit inside those of the `content.approved` contract, so an
item that validates here always fits the event.

Limits: title 1-200 characters; body ≤ 10,000; link URL http(s) only, ≤ 2,048;
≤ 20 media; ≤ 30 campaign hashtags, each `^#?\\w{1,100}$`; captions 1-3,000
characters, 1-10 per network, networks from the `Network` enum; required
disclosure ≤ 500; ≤ 500 target team ids; comments ≤ 2,000.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Self
from urllib.parse import urlsplit

from chorus_events.contracts import Audience, MediaKind, Network
from chorus_events.contracts.base import Caption, Id, LanguageTag, Slug
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from chorus_content.hashtags import HashtagIn
from chorus_content.items.workflow import Action, ContentState

TITLE_MAX = 200
BODY_MAX = 10_000


def _http_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an absolute http or https URL")
    return url


HttpUrl = Annotated[
    str,
    StringConstraints(max_length=2048, pattern=r"^https?://\S+$"),
    AfterValidator(_http_url),
]
"""An absolute http(s) URL of at most 2,048 characters, kept verbatim."""
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=TITLE_MAX)]
Body = Annotated[str, StringConstraints(max_length=BODY_MAX)]
Disclosure = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
Comment = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]
Captions = Annotated[list[Caption], Field(min_length=1, max_length=10)]


class _Model(BaseModel):
    # Attribute docstrings become the OpenAPI descriptions, limits included.
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)


class MediaIn(_Model):
    kind: MediaKind
    url: HttpUrl
    mime_type: Annotated[str, StringConstraints(max_length=127)] | None = None
    alt_text: Annotated[str, StringConstraints(max_length=1000)] | None = None


class TargetingIn(_Model):
    audience: Audience = Audience.ALL
    team_ids: Annotated[list[Id], Field(max_length=500)] = []
    """Required (non-empty) for audience "teams"; must be empty for "all"."""

    @model_validator(mode="after")
    def _teams_match_audience(self) -> Self:
        if self.audience is Audience.TEAMS and not self.team_ids:
            raise ValueError('audience "teams" needs at least one team id')
        if self.audience is Audience.ALL and self.team_ids:
            raise ValueError('audience "all" takes no team ids')
        return self


class ContentFields(_Model):
    """Everything an editor writes. `publish_at` absent means "as soon as approved"."""

    title: Title
    """1-200 characters."""
    body: Body = ""
    """At most 10,000 characters."""
    link_url: HttpUrl | None = None
    """The page the content promotes: absolute http(s) URL, at most 2,048 characters."""
    media: Annotated[list[MediaIn], Field(max_length=20)] = []
    """At most 20 media references."""
    category: Slug
    """A default category or one the tenant added (GET /v1/content/categories)."""
    language: LanguageTag
    """BCP 47 tag, e.g. "en", "de-CH", "ko"."""
    campaign_hashtags: Annotated[list[HashtagIn], Field(max_length=30)] = []
    """At most 30, each `^#?\\w{1,100}$` (Unicode letters allowed); stored with '#'."""
    suggested_captions: dict[Network, Captions] = {}
    """Per network (linkedin, x, facebook, instagram, xing, email): 1-10 captions of
    1-3,000 characters each."""
    required_disclosure: Disclosure | None = None
    """Text every share must include, at most 500 characters; filled from the policy
    for the category on submit when absent."""
    targeting: TargetingIn = TargetingIn()
    publish_at: AwareDatetime | None = None
    """Not shareable before this instant; absent means as soon as approved."""
    expires_at: AwareDatetime | None = None
    """Not shareable from this instant on; later than publish_at and in the future."""

    @field_validator("expires_at")
    @classmethod
    def _expiry_after_publish(
        cls, expires_at: datetime | None, info: ValidationInfo
    ) -> datetime | None:
        publish_at = info.data.get("publish_at")
        if expires_at is not None and publish_at is not None and expires_at <= publish_at:
            raise ValueError("expires_at must be later than publish_at")
        return expires_at


class ContentCreate(ContentFields):
    pass


class ContentPatch(_Model):
    """Fields to change; absent fields stay. Nullable fields accept null to clear them."""

    title: Title | None = None
    body: Body | None = None
    link_url: HttpUrl | None = None
    media: Annotated[list[MediaIn], Field(max_length=20)] | None = None
    category: Slug | None = None
    language: LanguageTag | None = None
    campaign_hashtags: Annotated[list[HashtagIn], Field(max_length=30)] | None = None
    suggested_captions: dict[Network, Captions] | None = None
    required_disclosure: Disclosure | None = None
    targeting: TargetingIn | None = None
    publish_at: AwareDatetime | None = None
    expires_at: AwareDatetime | None = None

    @field_validator("title", "body", "category", "language", "media", "campaign_hashtags")
    @classmethod
    def _required_stay_set(cls, value: Any) -> Any:
        # Runs only for fields the caller sent: an absent field keeps its stored value.
        if value is None:
            raise ValueError("cannot be null")
        return value

    def changes(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.model_fields_set}


class TransitionRequest(_Model):
    comment: Comment | None = None


class RejectRequest(_Model):
    comment: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
    """Why it was rejected: required, the editor needs to know what to change."""


class ContentItem(ContentFields):
    model_config = ConfigDict(extra="ignore")

    id: str
    state: ContentState
    version: int
    """Grows by one with every edit; carried by the content.approved event."""
    created_by: str
    created_at: datetime
    updated_at: datetime
    approved_by: str | None = None
    approved_at: datetime | None = None
    published_at: datetime | None = None
    retired_at: datetime | None = None
    allowed_actions: list[Action] = []


class ItemPage(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True)

    items: list[ContentItem]
    next_cursor: str | None
    """Pass as `cursor` to get the next page; null on the last page."""


class AuditEntryOut(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True)

    action: str
    """"create" for the creation, else the workflow action."""
    from_state: ContentState | None
    to_state: ContentState
    actor: str
    comment: str | None
    at: datetime


class AuditTrail(BaseModel):
    items: list[AuditEntryOut]
