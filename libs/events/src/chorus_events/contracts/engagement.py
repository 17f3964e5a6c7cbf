"""Engagement events.

- `engagement.updated` (producer: metrics; consumer: rewards): validated
  engagement on one share, after fraud filtering.
- `engagement.reported` on `engagement.raw` (producer: metrics' network
  ingestion; consumer: metrics): one raw observation from a network API or
  webhook, before any validation.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Self

from pydantic import (
    AwareDatetime,
    Field,
    NonNegativeInt,
    PositiveInt,
    StringConstraints,
    model_validator,
)

from chorus_events.contracts.base import (
    ContractModel,
    EventPayload,
    Hashtags,
    Id,
    Measurement,
    Network,
    Slug,
    TeamIds,
)


class EngagementDeltas(ContractModel):
    """Change in this window; negative when a fraud correction takes counts back."""

    clicks: int
    reactions: int
    comments: int
    reshares: int
    impressions: int


class EngagementTotals(ContractModel):
    """Validated running totals for the share after applying this window."""

    clicks: NonNegativeInt
    reactions: NonNegativeInt
    comments: NonNegativeInt
    reshares: NonNegativeInt
    impressions: NonNegativeInt


class MeasurementLabels(ContractModel):
    """How each metric of this share was obtained (see Measurement)."""

    clicks: Measurement
    reactions: Measurement
    comments: Measurement
    reshares: Measurement
    impressions: Measurement


class EngagementUpdated(EventPayload):
    """Validated engagement on a share for one window (key `tenant_id:advocate_id`).

    Ordering: `sequence` increases by at least one with every event of a share.
    A consumer remembers the highest sequence applied per share and ignores an
    event whose sequence is not higher (a stale or replayed update). Keyed by
    advocate like `share.posted`, so one advocate's points stay in order.
    """

    share_id: Id
    content_id: Id
    advocate_id: Id
    team_ids: TeamIds = ()
    network: Network
    campaign_hashtags: Hashtags = ()
    window_start: AwareDatetime
    window_end: AwareDatetime
    deltas: EngagementDeltas
    totals: EngagementTotals
    rejected: dict[Slug, NonNegativeInt] = Field(default_factory=dict)
    """Engagements rejected as fraud in this window, by rule (e.g. "self_click", "bot")."""
    measurement: MeasurementLabels
    sequence: PositiveInt
    """Monotonic per share_id: order updates and drop stale ones."""

    @model_validator(mode="after")
    def _window_ordered(self) -> Self:
        if self.window_end < self.window_start:
            raise ValueError("window_end must not be before window_start")
        return self


class EngagementKind(StrEnum):
    REACTIONS = "reactions"
    COMMENTS = "comments"
    RESHARES = "reshares"
    IMPRESSIONS = "impressions"


class EngagementReported(EventPayload):
    """A raw engagement observation from a network (topic `engagement.raw`).

    Key `tenant_id:share_id`, or `tenant_id:network:network_post_ref` when the
    share is not yet known. `(source, source_event_id)` identifies the
    observation, so a redelivered webhook is counted once.
    """

    source: Slug
    """The connector that observed it, e.g. "linkedin-api" or "x-webhook"."""
    source_event_id: Annotated[str, StringConstraints(min_length=1, max_length=256)]
    share_id: Id | None = None
    network_post_ref: Annotated[str, StringConstraints(min_length=1, max_length=512)] | None = None
    """The network's id of the post (e.g. an URN), when share_id is not known."""
    network: Network
    kind: EngagementKind
    count: NonNegativeInt
    cumulative: bool = False
    """False: count is an increment (webhooks). True: the network's running total (polling)."""
    comment_text: Annotated[str, StringConstraints(max_length=5000)] | None = None
    """The comment's text for sentiment analysis; only with kind "comments"."""
    occurred_at: AwareDatetime

    @model_validator(mode="after")
    def _identifies_post(self) -> Self:
        if self.share_id is None and self.network_post_ref is None:
            raise ValueError("one of share_id or network_post_ref is required")
        if self.comment_text is not None and self.kind is not EngagementKind.COMMENTS:
            raise ValueError('comment_text is only allowed with kind "comments"')
        return self
