"""Request and response models of the directory API (limits as constraints, so a 422
names the field)."""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from functools import lru_cache
from typing import Annotated
from zoneinfo import available_timezones

from chorus_platform.identity import Role
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from chorus_gateway.auth.scopes import SCOPES

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}\.[^@\s]{1,63}$")


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def _time_zone(value: str) -> str:
    if value not in _zones():
        raise ValueError("not an IANA time zone, e.g. Europe/Paris")
    return value


def _printable(value: str) -> str:
    # PostgreSQL text cannot hold NUL, and no name needs a control character.
    if not value.isprintable():
        raise ValueError("must not contain control characters")
    return value


def _email(value: str) -> str:
    if not _EMAIL.match(value) or not value.isprintable():
        raise ValueError("not an email address")
    return value.lower()


def _scopes(value: list[str]) -> list[str]:
    unknown = sorted(set(value) - SCOPES.keys())
    if unknown:
        raise ValueError(f"unknown scopes {unknown}; known: {sorted(SCOPES)}")
    return sorted(set(value))


TimeZone = Annotated[
    str, Field(max_length=64, examples=["Europe/Paris"]), AfterValidator(_time_zone)
]
Email = Annotated[str, Field(max_length=320, examples=["ada@example.com"]), AfterValidator(_email)]
Name = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_printable)]
ID_PATTERN = r"^[A-Za-z0-9_.:-]+$"
Id = Annotated[str, Field(min_length=1, max_length=64, pattern=ID_PATTERN)]
Subject = Annotated[str, Field(min_length=1, max_length=255), AfterValidator(_printable)]
Password = Annotated[str, Field(min_length=12, max_length=256)]
Scopes = Annotated[
    list[str], Field(min_length=1, max_length=20, examples=[["content:write"]]),
    AfterValidator(_scopes),
]  # fmt: skip


class Enrolment(StrEnum):
    INVITED = "invited"
    ENROLLED = "enrolled"
    OPTED_OUT = "opted_out"
    SUSPENDED = "suspended"
    """A suspended person cannot sign in, and their tokens stop working."""


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TenantOut(BaseModel):
    id: str
    name: str
    time_zone: str
    rate_limit_per_minute: int | None
    rate_limit_burst: int | None
    created_at: datetime


class TenantPatch(_In):
    name: Name | None = None
    time_zone: TimeZone | None = None
    rate_limit_per_minute: Annotated[int | None, Field(ge=1, le=1_000_000)] = None
    rate_limit_burst: Annotated[int | None, Field(ge=1, le=100_000)] = None


class TeamIn(_In):
    id: Id | None = None
    """A stable id of your choosing (e.g. an HR system's); generated when absent."""
    name: Name


class TeamOut(BaseModel):
    id: str
    name: str
    created_at: datetime


class TeamPage(BaseModel):
    items: list[TeamOut]
    next_cursor: str | None


class PersonIn(_In):
    id: Id | None = None
    """A stable id of your choosing (e.g. an employee number); generated when absent."""
    email: Email
    display_name: Name
    roles: Annotated[list[Role], Field(min_length=1, max_length=4)]
    team_ids: Annotated[list[Id], Field(max_length=100)] = []
    enrolment: Enrolment = Enrolment.INVITED
    external_subject: Subject | None = None
    """The `sub` of this person's tokens from the tenant's identity provider."""
    password: Password | None = None
    """For the built-in login; leave it out for people who sign in with SSO."""


class PersonPatch(_In):
    display_name: Name | None = None
    roles: Annotated[list[Role] | None, Field(min_length=1, max_length=4)] = None
    team_ids: Annotated[list[Id] | None, Field(max_length=100)] = None
    enrolment: Enrolment | None = None
    external_subject: Subject | None = None


class PersonOut(BaseModel):
    id: str
    email: str
    display_name: str
    roles: list[Role]
    team_ids: list[str]
    enrolment: Enrolment
    external_subject: str | None
    has_password: bool
    created_at: datetime
    updated_at: datetime


class PersonPage(BaseModel):
    items: list[PersonOut]
    next_cursor: str | None


class PasswordIn(_In):
    password: Password


class ApiKeyIn(_In):
    name: Name
    scopes: Scopes
    expires_at: datetime | None = None


class RotateIn(_In):
    grace_seconds: Annotated[int, Field(ge=0, le=7 * 86_400)] = 3600
    """How long the old key keeps working, so systems can switch without downtime."""


class ApiKeyOut(BaseModel):
    id: str
    name: str
    scopes: list[str]
    created_by: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None
    replaced_by: str | None


class ApiKeyCreated(ApiKeyOut):
    secret: str
    """The whole key, shown this once: store it now, it cannot be read again."""


class ApiKeyPage(BaseModel):
    items: list[ApiKeyOut]
    next_cursor: str | None
