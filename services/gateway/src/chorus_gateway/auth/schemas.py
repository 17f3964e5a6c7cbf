"""Request and response models of the built-in login."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from chorus_gateway.directory.schemas import ID_PATTERN, Email, Password


class LoginIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tenant_id: Annotated[str, Field(min_length=1, max_length=64, pattern=ID_PATTERN)]
    email: Email
    password: Annotated[str, Field(min_length=1, max_length=256)]


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 (a scheme)
    expires_in: int
    """Seconds until the token expires; sign in again after that."""


class PasswordChangeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    current_password: Annotated[str, Field(min_length=1, max_length=256)]
    new_password: Password
