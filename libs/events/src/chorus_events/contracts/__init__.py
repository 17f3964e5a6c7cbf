"""Chorus event contracts: versioned payload models and the registry of event types.

Each event type is named by its CloudEvents type, `io.chorus.<entity>.<event>.v<N>`,
and travels on one topic (see `registry`). Payloads are frozen pydantic models;
`docs/events/` holds their generated JSON Schemas and the AsyncAPI document
(`python -m chorus_events.schemagen`).

Compatibility rule, within one `v<N>`:

- Allowed (minor revision, bump `CONTRACTS_VERSION` minor): add an optional
  field with a default; relax a constraint (longer max length, wider pattern).
  Consumers ignore fields they do not know (`extra="ignore"`), so an older
  consumer accepts events from a newer producer, and a newer consumer accepts
  older events because the new field has a default.
- Allowed but consumer-first: add an enum member (e.g. a `Network`). An older
  consumer rejects the unknown value (the event is dead-lettered), so release
  the consumers before any producer emits the new value.
- Breaking, needs `v<N+1>` (a new ce_type, usually on the same topic, produced
  beside the old one until every consumer moved): remove or rename a field,
  make a field required, tighten a constraint, change a type or a meaning,
  change the Kafka key.
"""

from __future__ import annotations

from typing import Final

from chorus_events.contracts.base import EventPayload, Measurement, Network
from chorus_events.contracts.clicks import ClickRecorded
from chorus_events.contracts.content import (
    Audience,
    ContentApproved,
    ContentRetired,
    MediaKind,
    MediaRef,
    RetirementReason,
    Targeting,
)
from chorus_events.contracts.engagement import (
    EngagementDeltas,
    EngagementKind,
    EngagementReported,
    EngagementTotals,
    EngagementUpdated,
    MeasurementLabels,
)
from chorus_events.contracts.registry import (
    ALL_SPECS,
    CLICK_RECORDED,
    CONTENT_APPROVED,
    CONTENT_RETIRED,
    DLQ_TOPICS,
    ENGAGEMENT_REPORTED,
    ENGAGEMENT_UPDATED,
    SHARE_POSTED,
    TOPICS,
    EventSpec,
    UnknownEventType,
    spec_for_type,
    specs_for_topic,
)
from chorus_events.contracts.sharing import SharePosted

CONTRACTS_VERSION: Final = "1.1.0"
"""Version of the contract set as a whole (AsyncAPI `info.version`)."""

__all__ = [
    "ALL_SPECS",
    "CLICK_RECORDED",
    "CONTENT_APPROVED",
    "CONTENT_RETIRED",
    "CONTRACTS_VERSION",
    "DLQ_TOPICS",
    "ENGAGEMENT_REPORTED",
    "ENGAGEMENT_UPDATED",
    "SHARE_POSTED",
    "TOPICS",
    "Audience",
    "ClickRecorded",
    "ContentApproved",
    "ContentRetired",
    "EngagementDeltas",
    "EngagementKind",
    "EngagementReported",
    "EngagementTotals",
    "EngagementUpdated",
    "EventPayload",
    "EventSpec",
    "Measurement",
    "MeasurementLabels",
    "MediaKind",
    "MediaRef",
    "Network",
    "RetirementReason",
    "SharePosted",
    "Targeting",
    "UnknownEventType",
    "spec_for_type",
    "specs_for_topic",
]
