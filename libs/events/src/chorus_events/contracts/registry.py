"""The one place that binds each event type to its topic, payload model and Kafka key.

Producers pass an `EventSpec` to `encode`; consumers get it back on the
`Envelope`. Keys are `"{tenant_id}:{entity_id}"` where the entity is what needs
ordering: Kafka keeps order only within a partition, and one key always maps to
one partition.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, Generic, TypeVar

from pydantic import BaseModel

from chorus_events.contracts import dlq
from chorus_events.contracts.clicks import ClickRecorded
from chorus_events.contracts.content import ContentApproved, ContentRetired
from chorus_events.contracts.engagement import EngagementReported, EngagementUpdated
from chorus_events.contracts.sharing import SharePosted

# Bound to BaseModel (not EventPayload) so code generic over specs, and test specs
# with ad-hoc models, type-check; every registered payload is an EventPayload.
P = TypeVar("P", bound=BaseModel)


class UnknownEventType(LookupError):
    """No registered spec has this `ce_type`."""


@dataclass(frozen=True)
class EventSpec(Generic[P]):
    """How one event type travels: its topic, CloudEvents type, payload and key.

    `key(payload)` must be a pure function of the payload: the outbox and any
    replay must route an event to the same partition every time.
    """

    topic: str
    ce_type: str
    payload: type[P]
    key: Callable[[P], str]
    subject: Callable[[P], str] | None = None
    """The `ce_subject` attribute (the entity the event is about), if any."""
    producer: str = ""
    """Service that sends it (documentation and AsyncAPI operations)."""
    consumers: tuple[str, ...] = ()
    """Services that receive it (documentation and AsyncAPI operations)."""
    key_format: str = ""
    """Human description of the key, e.g. "tenant_id:advocate_id"."""
    summary: str = ""
    high_volume: bool = False
    """An internal, high-volume input (raw clicks and engagement): its topic gets
    `CHORUS_KAFKA_RAW_PARTITIONS` partitions instead of `CHORUS_KAFKA_PARTITIONS`."""

    @property
    def dlq_topic(self) -> str:
        return dlq.dlq_topic(self.topic)


def _key(tenant_id: str, entity: str) -> str:
    return f"{tenant_id}:{entity}"


def _engagement_reported_key(p: EngagementReported) -> str:
    if p.share_id is not None:
        return _key(p.tenant_id, p.share_id)
    # Before the share is resolved: group by the network's post, still per tenant.
    return _key(p.tenant_id, f"{p.network.value}:{p.network_post_ref}")


CONTENT_APPROVED: Final[EventSpec[ContentApproved]] = EventSpec(
    topic="content.approved",
    ce_type="io.chorus.content.approved.v1",
    payload=ContentApproved,
    key=lambda p: _key(p.tenant_id, p.content_id),
    subject=lambda p: p.content_id,
    producer="content",
    consumers=("sharing", "metrics"),
    key_format="tenant_id:content_id",
    summary="Content became shareable, with targeting, captions, hashtags and expiry.",
)
CONTENT_RETIRED: Final[EventSpec[ContentRetired]] = EventSpec(
    topic="content.retired",
    ce_type="io.chorus.content.retired.v1",
    payload=ContentRetired,
    key=lambda p: _key(p.tenant_id, p.content_id),
    subject=lambda p: p.content_id,
    producer="content",
    consumers=("sharing", "metrics"),
    key_format="tenant_id:content_id",
    summary="Content stopped being shareable: expired, archived or withdrawn.",
)
SHARE_POSTED: Final[EventSpec[SharePosted]] = EventSpec(
    topic="share.posted",
    ce_type="io.chorus.share.posted.v1",
    payload=SharePosted,
    key=lambda p: _key(p.tenant_id, p.advocate_id),
    subject=lambda p: p.share_id,
    producer="sharing",
    consumers=("metrics", "rewards"),
    key_format="tenant_id:advocate_id",
    summary="An advocate shared content to a network, with its tracked link.",
)
ENGAGEMENT_UPDATED: Final[EventSpec[EngagementUpdated]] = EventSpec(
    topic="engagement.updated",
    ce_type="io.chorus.engagement.updated.v1",
    payload=EngagementUpdated,
    key=lambda p: _key(p.tenant_id, p.advocate_id),
    subject=lambda p: p.share_id,
    producer="metrics",
    consumers=("rewards",),
    key_format="tenant_id:advocate_id",
    summary="Validated engagement on a share: deltas, totals and what fraud filtering rejected.",
)
CLICK_RECORDED: Final[EventSpec[ClickRecorded]] = EventSpec(
    topic="clicks.raw",
    ce_type="io.chorus.click.recorded.v1",
    payload=ClickRecorded,
    key=lambda p: _key(p.tenant_id, p.share_id),
    subject=lambda p: str(p.click_id),
    producer="sharing",
    consumers=("metrics",),
    key_format="tenant_id:share_id",
    summary="Internal, high-volume: a visitor followed a tracked link.",
    high_volume=True,
)
ENGAGEMENT_REPORTED: Final[EventSpec[EngagementReported]] = EventSpec(
    topic="engagement.raw",
    ce_type="io.chorus.engagement.reported.v1",
    payload=EngagementReported,
    key=_engagement_reported_key,
    subject=lambda p: p.source_event_id,
    producer="metrics",
    consumers=("metrics",),
    key_format="tenant_id:share_id, or tenant_id:network:network_post_ref",
    summary="Internal, high-volume: a raw engagement observation from a network connector.",
    high_volume=True,
)

ALL_SPECS: Final[tuple[EventSpec[Any], ...]] = (
    CONTENT_APPROVED,
    CONTENT_RETIRED,
    SHARE_POSTED,
    ENGAGEMENT_UPDATED,
    CLICK_RECORDED,
    ENGAGEMENT_REPORTED,
)

_BY_TYPE: Final[dict[str, EventSpec[Any]]] = {spec.ce_type: spec for spec in ALL_SPECS}
if len(_BY_TYPE) != len(ALL_SPECS):  # a copy-paste slip must fail at import, not in prod
    raise RuntimeError("duplicate ce_type in ALL_SPECS")

TOPICS: Final[tuple[str, ...]] = tuple(sorted({spec.topic for spec in ALL_SPECS}))
"""Every event topic (without dead-letter topics), sorted."""
DLQ_TOPICS: Final[tuple[str, ...]] = tuple(dlq.dlq_topic(topic) for topic in TOPICS)


def spec_for_type(ce_type: str) -> EventSpec[Any]:
    """The spec registered for `ce_type`; raises `UnknownEventType`."""
    try:
        return _BY_TYPE[ce_type]
    except KeyError:
        raise UnknownEventType(ce_type) from None


def specs_for_topic(topic: str) -> tuple[EventSpec[Any], ...]:
    """Specs published on `topic` (several when a new version runs beside the old one)."""
    return tuple(spec for spec in ALL_SPECS if spec.topic == topic)
