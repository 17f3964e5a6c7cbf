"""The caller's identity as the gateway forwards it to services.

The gateway authenticates people (JWT) and systems (API keys), then forwards a
short-lived *internal token* in the `X-Chorus-Identity` header: the claims
below, HMAC-SHA256 signed with a secret shared by gateway and services. A
service trusts nothing else about the caller. The format is deliberately tiny
(`base64url(json).base64url(mac)`): one algorithm, no header to negotiate, so
there is no `alg` confusion to defend against.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Awaitable, Callable, Iterable
from enum import StrEnum
from typing import Annotated

from fastapi import Depends, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from chorus_platform.problems import Forbidden, Unauthorized

IDENTITY_HEADER = "X-Chorus-Identity"
DEFAULT_TTL_SECONDS = 60
# Clocks of gateway and service hosts differ a little; accept tokens this early.
CLOCK_SKEW_SECONDS = 5
_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"


class Role(StrEnum):
    ADMIN = "admin"
    EDITOR = "editor"
    APPROVER = "approver"
    ADVOCATE = "advocate"


class PrincipalKind(StrEnum):
    PERSON = "person"
    API_KEY = "api_key"
    SERVICE = "service"


class Identity(BaseModel):
    """Who is calling, within which tenant, allowed to do what."""

    model_config = ConfigDict(frozen=True)

    # Same shape as event ids (no ':'), since both end up in Kafka keys and payloads.
    tenant_id: str = Field(min_length=1, max_length=64, pattern=_ID_PATTERN)
    principal_id: str = Field(min_length=1, max_length=64, pattern=_ID_PATTERN)
    kind: PrincipalKind = PrincipalKind.PERSON
    roles: frozenset[Role] = frozenset()
    scopes: frozenset[str] = frozenset()
    team_ids: frozenset[str] = frozenset()
    request_id: str | None = None

    def has_any_role(self, roles: Iterable[Role]) -> bool:
        return bool(self.roles & set(roles))


class _Claims(Identity):
    iat: int
    exp: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: str, body: str) -> bytes:
    return hmac.new(secret.encode(), body.encode("ascii"), hashlib.sha256).digest()


def mint_internal_token(
    identity: Identity,
    secret: str,
    *,
    ttl_seconds: int = DEFAULT_TTL_SECONDS,
    now: float | None = None,
) -> str:
    """Sign `identity` for `ttl_seconds`. Used by the gateway, seed scripts and tests."""
    if not secret:
        raise ValueError("internal token secret is empty")
    issued = int(now if now is not None else time.time())
    claims = _Claims(**identity.model_dump(), iat=issued, exp=issued + ttl_seconds)
    body = _b64(claims.model_dump_json().encode())
    return f"{body}.{_b64(_mac(secret, body))}"


class InvalidToken(Exception):
    pass


_VERIFIED_MAX = 4096
_verified: dict[tuple[str, str], tuple[Identity, int, int]] = {}
"""Tokens whose signature and claims checked out, with their iat and exp. The gateway
reuses a caller's token for a third of its TTL, so a busy caller's requests repeat it;
checking the signature and validating the claims again cost more than a leaderboard
read. Only the time checks depend on when the token is used: they run every time."""


def verify_internal_token(token: str, secret: str, *, now: float | None = None) -> Identity:
    """Return the identity in `token`, or raise `InvalidToken` saying why."""
    if not secret:
        raise InvalidToken("service has no internal token secret configured")
    found = _verified.get((secret, token))
    if found is None:
        found = _verify_signed(token, secret)
        if len(_verified) >= _VERIFIED_MAX:
            _verified.clear()  # crude but bounded: a busy service refills it at once
        _verified[(secret, token)] = found
    identity, issued, expires = found
    current = now if now is not None else time.time()
    if expires <= current:
        raise InvalidToken("token expired")
    if issued > current + CLOCK_SKEW_SECONDS:
        raise InvalidToken("token issued in the future")
    return identity


def _verify_signed(token: str, secret: str) -> tuple[Identity, int, int]:
    """The identity, iat and exp of a token signed with `secret` (`InvalidToken` if not)."""
    body, sep, mac = token.partition(".")
    if not sep or not body or not mac:
        raise InvalidToken("malformed token")
    try:
        given = _unb64(mac)
    except ValueError as exc:
        raise InvalidToken("malformed signature") from exc
    if not hmac.compare_digest(given, _mac(secret, body)):
        raise InvalidToken("bad signature")
    try:
        claims = _Claims.model_validate(json.loads(_unb64(body)))
    except (ValueError, ValidationError) as exc:
        raise InvalidToken("malformed claims") from exc
    identity = Identity.model_validate(claims.model_dump(exclude={"iat", "exp"}))
    return identity, claims.iat, claims.exp


# Dependencies are `async def` on purpose: a plain `def` would be run on a worker
# thread by FastAPI, a hop that cost a third of a cheap request's time.
async def current_identity(request: Request) -> Identity:
    """FastAPI dependency: the verified caller, or 401 problem+json."""
    identity = authenticate(
        request.headers.get(IDENTITY_HEADER), request.app.state.internal_token_secret
    )
    request.state.identity = identity
    return identity


def authenticate(token: str | None, secret: str) -> Identity:
    """The caller named by a request's identity header (`token`), or `Unauthorized`.

    What `current_identity` checks, for routes served in front of FastAPI (fast paths).
    """
    if not token:
        raise Unauthorized(f"missing {IDENTITY_HEADER} header")
    try:
        return verify_internal_token(token, secret)
    except InvalidToken as exc:
        raise Unauthorized(f"invalid identity token: {exc}") from exc


CurrentIdentity = Annotated[Identity, Depends(current_identity)]


def require_roles(*roles: Role) -> Callable[[Identity], Awaitable[Identity]]:
    """Dependency factory: the caller must hold at least one of `roles` (403 otherwise)."""

    async def _check(identity: CurrentIdentity) -> Identity:
        if not identity.has_any_role(roles):
            wanted = ", ".join(sorted(r.value for r in roles))
            raise Forbidden(f"requires one of the roles: {wanted}", required_roles=sorted(roles))
        return identity

    return _check


def require_scope(scope: str) -> Callable[[Identity], Awaitable[Identity]]:
    """Dependency factory for API-key callers: the key must carry `scope`.

    People are governed by roles, not scopes, so a person passes this check.
    """

    async def _check(identity: CurrentIdentity) -> Identity:
        if identity.kind is PrincipalKind.API_KEY and scope not in identity.scopes:
            raise Forbidden(f"API key lacks scope {scope}", required_scope=scope)
        return identity

    return _check
