"""Sharing events: `share.posted` (producer: sharing; consumers: metrics, rewards)."""

from __future__ import annotations

from pydantic import AwareDatetime, Field

from chorus_events.contracts.base import (
    Caption,
    EventPayload,
    Hashtags,
    Id,
    LinkCode,
    Network,
    TeamIds,
    Url,
)


class SharePosted(EventPayload):
    """An advocate shared content to a network (key `tenant_id:advocate_id`).

    Keyed by advocate, not share, so all of one advocate's shares reach rewards in
    order and their points are applied in the order they were earned.
    """

    share_id: Id
    content_id: Id
    advocate_id: Id
    team_ids: TeamIds = ()
    """The advocate's teams when sharing, for team leaderboards (frozen at share time)."""
    network: Network
    caption: Caption | None = None
    """The advocate's personal text, if any (Facebook forbids pre-filling it)."""
    link_code: LinkCode
    """Code of the tracked link created for this share; clicks carry it."""
    tracked_url: Url
    """The short URL that was posted; it redirects to destination_url and counts the click."""
    destination_url: Url
    """Where the tracked link redirects, with UTM parameters for user, post and network."""
    campaign_hashtags: Hashtags = ()
    posted_at: AwareDatetime
    scheduled: bool = False
    """True when the advocate scheduled the post and Chorus published it later."""
    audience_size: int | None = Field(default=None, ge=0, le=1_000_000_000)
    """Followers/connections the advocate declared for this network, if given: the basis
    of *estimated* reach where the network reports no impressions (added in contracts 1.1.0)."""
