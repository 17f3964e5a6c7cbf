"""Request and response models of the admin API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from chorus_events.contracts import Network
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from chorus_metrics.fraud.rules import FraudRules
from chorus_metrics.time_zones import is_time_zone

Id = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
]
VisitorHash = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32,128}$")]


def _known_zone(zone: str) -> str:
    if not is_time_zone(zone):
        raise ValueError("unknown IANA time zone")
    return zone


TimeZone = Annotated[str, StringConstraints(max_length=64), AfterValidator(_known_zone)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FraudRulesView(BaseModel):
    rules: FraudRules
    explanations: dict[str, str]
    is_default: bool
    updated_at: datetime | None = None
    updated_by: str | None = None


class ProgramIn(_Strict):
    enrolled_advocates: int = Field(ge=0, le=10_000_000)
    time_zone: TimeZone | None = None
    """IANA zone KPI buckets use when a request names none (until the directory provides it)."""


class ProgramView(BaseModel):
    enrolled_advocates: int
    time_zone: str | None
    updated_at: datetime | None


class AudienceIn(_Strict):
    advocate_id: Id
    network: Network
    followers: int = Field(ge=0, le=1_000_000_000)


class AudiencesIn(_Strict):
    audiences: list[AudienceIn] = Field(min_length=1, max_length=5000)


class FingerprintsIn(_Strict):
    advocate_id: Id
    visitor_hashes: list[VisitorHash] = Field(min_length=1, max_length=100)


class PostRefIn(_Strict):
    network: Network
    post_ref: Annotated[str, StringConstraints(min_length=1, max_length=512)]


class PostRefView(BaseModel):
    share_id: str
    network: Network
    post_ref: str
    matched: int
    """Held observations that named this post and are now counted on the share."""


class Accepted(BaseModel):
    accepted: int
