"""Shared building blocks of every event payload: base models, constrained types, enums.

Constraints live in the types (not in validators) wherever JSON Schema can
express them, so the generated schemas tell outside consumers the same rules our
own consumers enforce.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

# Ids never contain ':' because Kafka keys are "{tenant_id}:{entity_id}"; a colon
# inside an id would make two different keys collide into one string.
Id = Annotated[
    str,
    StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$"),
]
TenantId = Id

Hashtag = Annotated[str, StringConstraints(max_length=140, pattern=r"^#[^\s#]+$")]
"""A hashtag with its leading '#', e.g. "#ChorusLaunch"; Unicode letters allowed."""

# Deliberately a plain string with a pattern rather than pydantic's HttpUrl: HttpUrl
# normalises (adds '/', lowercases host), so the bytes a consumer sees would differ
# from what the producer stored, and tracked links must round-trip verbatim.
Url = Annotated[str, StringConstraints(max_length=2048, pattern=r"^https?://[^\s]+$")]

LinkCode = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{4,32}$")]
"""The short code of a tracked link, the last path segment of its URL."""

LanguageTag = Annotated[
    str, StringConstraints(max_length=35, pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")
]
"""A BCP 47 language tag such as "en", "de-CH" or "pt-BR"."""

Caption = Annotated[str, StringConstraints(min_length=1, max_length=3000)]
"""Post text. 3000 characters (LinkedIn's limit) bounds the event; stricter per-network
limits (X: 280) are sharing's business, not the contract's."""

Slug = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_.-]*$")
]
"""A lowercase machine name such as a category or a fraud rule ("self_click")."""

Hashtags = Annotated[tuple[Hashtag, ...], Field(max_length=30)]
TeamIds = Annotated[tuple[Id, ...], Field(max_length=500)]


class ContractModel(BaseModel):
    """Base of every model that travels in an event.

    Frozen: an event is a fact, handlers must not edit it in place.
    `extra="ignore"`: a consumer built against an older minor revision of a
    contract accepts events that carry fields added later (see the package
    docstring for the full compatibility rule).
    """

    model_config = ConfigDict(frozen=True, extra="ignore", use_attribute_docstrings=True)


class EventPayload(ContractModel):
    """Base of every top-level event payload: everything belongs to one tenant."""

    tenant_id: TenantId
    """The tenant (company) the event belongs to; first part of every Kafka key."""


class Network(StrEnum):
    """A social network (or channel) a share goes to.

    Adding a member is additive but consumer-first: an older consumer dead-letters
    an event naming a network it does not know, so ship the new member to
    consumers before any producer emits it.
    """

    LINKEDIN = "linkedin"
    X = "x"
    FACEBOOK = "facebook"
    INSTAGRAM = "instagram"
    XING = "xing"
    EMAIL = "email"


class Measurement(StrEnum):
    """How a number was obtained; Chorus labels every figure it shows."""

    MEASURED = "measured"
    """First-party observation, e.g. a tracked-link click we redirected."""
    REPORTED = "reported"
    """Reported by the network's API or webhook."""
    ESTIMATED = "estimated"
    """Derived by a formula, e.g. potential reach from follower counts."""
