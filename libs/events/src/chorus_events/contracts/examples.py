"""One realistic, valid example payload per event type.

They are built from the models, so they cannot drift from the contract: the
AsyncAPI document shows them and tests use them as fixtures.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final, TypeVar, cast
from uuid import UUID

from pydantic import BaseModel

from chorus_events.contracts.base import Measurement, Network
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
from chorus_events.contracts.registry import ALL_SPECS, EventSpec
from chorus_events.contracts.sharing import SharePosted

P = TypeVar("P", bound=BaseModel)

_T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
_TENANT = "acme"

_EXAMPLES: Final[tuple[BaseModel, ...]] = (
    ContentApproved(
        tenant_id=_TENANT,
        content_id="cnt-42",
        version=2,
        title="Chorus 2.0 is here",
        body="Live leaderboards, fair scoring and an open event stream.",
        link_url="https://acme.example/blog/chorus-2",
        media=(
            MediaRef(
                kind=MediaKind.IMAGE,
                url="https://cdn.acme.example/chorus-2.png",
                mime_type="image/png",
                alt_text="The Chorus 2.0 leaderboard",
            ),
        ),
        category="product_announcements",
        language="en",
        campaign_hashtags=("#Chorus2",),
        suggested_captions={
            Network.LINKEDIN: (
                "Proud of what my team shipped this quarter.",
                "Employee advocacy without the guesswork.",
            ),
            Network.X: ("Chorus 2.0 is out!",),
        },
        required_disclosure="#employee",
        targeting=Targeting(audience=Audience.TEAMS, team_ids=("team-sales", "team-eng")),
        publish_at=_T0,
        expires_at=datetime(2025, 4, 3, 9, 0, tzinfo=UTC),
        approved_by="usr-7",
        approved_at=datetime(2025, 3, 2, 17, 30, tzinfo=UTC),
    ),
    ContentRetired(
        tenant_id=_TENANT,
        content_id="cnt-42",
        reason=RetirementReason.EXPIRED,
        retired_at=datetime(2025, 4, 3, 9, 0, tzinfo=UTC),
    ),
    SharePosted(
        tenant_id=_TENANT,
        share_id="shr-1001",
        content_id="cnt-42",
        advocate_id="adv-17",
        team_ids=("team-sales",),
        network=Network.LINKEDIN,
        caption="Proud of what my team shipped this quarter. #employee",
        link_code="k3Xp9a",
        tracked_url="https://go.acme.example/k3Xp9a",
        destination_url=(
            "https://acme.example/blog/chorus-2?utm_source=linkedin&utm_medium=social"
            "&utm_campaign=Chorus2&utm_content=shr-1001&utm_term=adv-17"
        ),
        campaign_hashtags=("#Chorus2",),
        posted_at=datetime(2025, 3, 3, 9, 15, tzinfo=UTC),
        scheduled=False,
    ),
    EngagementUpdated(
        tenant_id=_TENANT,
        share_id="shr-1001",
        content_id="cnt-42",
        advocate_id="adv-17",
        team_ids=("team-sales",),
        network=Network.LINKEDIN,
        campaign_hashtags=("#Chorus2",),
        window_start=datetime(2025, 3, 3, 10, 0, tzinfo=UTC),
        window_end=datetime(2025, 3, 3, 10, 0, 1, tzinfo=UTC),
        deltas=EngagementDeltas(clicks=3, reactions=1, comments=0, reshares=0, impressions=0),
        totals=EngagementTotals(clicks=12, reactions=4, comments=1, reshares=0, impressions=350),
        rejected={"self_click": 1},
        measurement=MeasurementLabels(
            clicks=Measurement.MEASURED,
            reactions=Measurement.REPORTED,
            comments=Measurement.REPORTED,
            reshares=Measurement.REPORTED,
            impressions=Measurement.ESTIMATED,
        ),
        sequence=7,
    ),
    ClickRecorded(
        tenant_id=_TENANT,
        click_id=UUID("0b7e4f1c-5a7d-4c55-9d0e-3b1f2a6c8e90"),
        link_code="k3Xp9a",
        share_id="shr-1001",
        occurred_at=datetime(2025, 3, 3, 10, 0, 0, 250000, tzinfo=UTC),
        visitor_hash="9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        user_agent="Mozilla/5.0 (X11; Linux x86_64) Firefox/135.0",
        ip_prefix="203.0.113.0/24",
        referrer="https://www.linkedin.com/",
    ),
    EngagementReported(
        tenant_id=_TENANT,
        source="linkedin-api",
        source_event_id="li-evt-88121",
        share_id="shr-1001",
        network=Network.LINKEDIN,
        kind=EngagementKind.COMMENTS,
        count=1,
        comment_text="Congratulations to the whole team!",
        occurred_at=datetime(2025, 3, 3, 10, 2, tzinfo=UTC),
    ),
)

EXAMPLES: Final[dict[str, BaseModel]] = {
    spec.ce_type: example
    for spec in ALL_SPECS
    for example in _EXAMPLES
    if type(example) is spec.payload
}
"""Example payload by ce_type; a test checks every registered spec has one."""


EMITTED_AT: Final[dict[str, datetime]] = {
    "io.chorus.content.approved.v1": datetime(2025, 3, 2, 17, 30, 0, 120000, tzinfo=UTC),
    "io.chorus.content.retired.v1": datetime(2025, 4, 3, 9, 0, 0, 80000, tzinfo=UTC),
    "io.chorus.share.posted.v1": datetime(2025, 3, 3, 9, 15, 0, 40000, tzinfo=UTC),
    "io.chorus.engagement.updated.v1": datetime(2025, 3, 3, 10, 0, 1, 300000, tzinfo=UTC),
    "io.chorus.click.recorded.v1": datetime(2025, 3, 3, 10, 0, 0, 260000, tzinfo=UTC),
    "io.chorus.engagement.reported.v1": datetime(2025, 3, 3, 10, 2, 5, tzinfo=UTC),
}
"""When each example event was emitted (its `ce_time`), for documentation."""


def example_for(spec: EventSpec[P]) -> P:
    """The example payload of `spec`; KeyError when the spec has no example."""
    return cast(P, EXAMPLES[spec.ce_type])
