"""The sharing domain: feed items, shares, tracked links and the tenant's policy.

Plain frozen dataclasses: repositories build them from rows, the service layer
decides with them, schemas render them. No I/O here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum

from chorus_events.contracts.base import Network
from chorus_events.contracts.content import Audience


@dataclass(frozen=True)
class FeedItem:
    """Sharing's read model of one approved piece of content (from `content.approved`)."""

    tenant_id: str
    content_id: str
    version: int
    title: str
    body: str
    link_url: str | None
    category: str
    language: str
    campaign_hashtags: tuple[str, ...]
    suggested_captions: dict[str, list[str]]
    required_disclosure: str | None
    audience: Audience
    team_ids: tuple[str, ...]
    publish_at: datetime
    expires_at: datetime | None
    approved_at: datetime
    media: list[dict[str, object]] = field(default_factory=list)
    retired: bool = False
    shared_networks: tuple[Network, ...] = ()
    """Networks the *calling* advocate already shared this item to (feed queries only)."""

    def visible_to(self, team_ids: frozenset[str]) -> bool:
        return self.audience is Audience.ALL or bool(team_ids & set(self.team_ids))

    def live_at(self, now: datetime) -> bool:
        if self.retired or self.publish_at > now:
            return False
        return self.expires_at is None or self.expires_at > now


class ShareState(StrEnum):
    SCHEDULED = "scheduled"
    POSTED = "posted"
    CANCELLED = "cancelled"
    """A scheduled share whose content stopped being shareable before its time."""


class PostVia(StrEnum):
    INTENT = "intent"
    """The advocate posts through the network's share intent (the default)."""
    API = "api"
    """Chorus posts through a network connector with the advocate's consent."""


@dataclass(frozen=True)
class TrackedLink:
    code: str
    url: str
    """The short public URL (`{public_link_base}/l/{code}`)."""
    destination_url: str


@dataclass(frozen=True)
class Share:
    tenant_id: str
    share_id: str
    content_id: str
    advocate_id: str
    team_ids: tuple[str, ...]
    network: Network
    caption: str | None
    final_text: str
    campaign_hashtags: tuple[str, ...]
    state: ShareState
    via: PostVia
    link: TrackedLink
    created_at: datetime
    scheduled_at: datetime | None = None
    posted_at: datetime | None = None
    audience_size: int | None = None
    content_title: str = ""
    external_post_id: str | None = None


class DuplicateRule(StrEnum):
    IDENTICAL = "identical"
    """Refuse the same content to the same network with the same caption text."""
    SAME_NETWORK = "same_network"
    """Refuse the same content to the same network twice, whatever the caption."""
    OFF = "off"


@dataclass(frozen=True)
class SharingPolicy:
    tenant_id: str
    daily_cap: int
    """Shares per advocate per UTC day (by the day the share is posted)."""
    duplicate_rule: DuplicateRule = DuplicateRule.IDENTICAL
    default_link_url: str | None = None
    """Where a share of content without a link of its own points (e.g. the careers page)."""
    updated_at: datetime | None = None
    updated_by: str | None = None


def cap_day(moment: datetime) -> date:
    """The day a share counts against the cap: UTC, as tenant time zones are unknown here."""
    return moment.astimezone(UTC).date()
