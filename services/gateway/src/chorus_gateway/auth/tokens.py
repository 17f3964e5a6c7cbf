"""Verification of people's bearer tokens (JWT), from our issuer or a trusted OIDC one.

Only RS256 and ES256 are accepted, and the header's `alg` must be the algorithm of
the key found by `kid`: `alg: none`, HS256 signed with a public key as the HMAC
secret, and any other algorithm swap fail before a signature is even checked.
`iss`, `aud`, `exp`, `iat` and `sub` are required.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import jwt

ALLOWED_ALGORITHMS = frozenset({"RS256", "ES256"})
LEEWAY_SECONDS = 30


class TokenError(Exception):
    """The token cannot be trusted; the message says why (safe to show the caller)."""


class KeySource(Protocol):
    async def key(self, kid: str) -> jwt.PyJWK | None: ...


@dataclass(frozen=True)
class TrustedIssuer:
    issuer: str
    audience: str
    tenant_claim: str
    keys: KeySource
    local: bool
    """Our own tokens name the person id as `sub`; others are matched in the directory."""


@dataclass(frozen=True)
class PersonClaims:
    issuer: str
    subject: str
    tenant_id: str
    email: str | None
    email_verified: bool
    expires_at: int
    local: bool


class TokenVerifier:
    def __init__(self, issuers: list[TrustedIssuer]) -> None:
        self.issuers = {i.issuer: i for i in issuers}

    async def verify(self, token: str) -> PersonClaims:
        try:
            header = jwt.get_unverified_header(token)
            unverified: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
        except jwt.InvalidTokenError as exc:
            raise TokenError("malformed token") from exc
        alg = header.get("alg")
        if alg not in ALLOWED_ALGORITHMS:
            raise TokenError(f"algorithm {alg!r} is not accepted (RS256 or ES256 only)")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise TokenError("token header names no key (kid)")
        trusted = self.issuers.get(str(unverified.get("iss")))
        if trusted is None:
            raise TokenError("token issuer is not trusted")
        jwk = await trusted.keys.key(kid)
        if jwk is None:
            raise TokenError("token signed with an unknown key")
        if jwk.algorithm_name != alg:
            raise TokenError(f"algorithm {alg} does not match the key's {jwk.algorithm_name}")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key=jwk.key,
                algorithms=[alg],
                audience=trusted.audience,
                issuer=trusted.issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise TokenError("token expired") from exc
        except jwt.InvalidTokenError as exc:
            raise TokenError(f"invalid token: {exc}") from exc
        tenant = claims.get(trusted.tenant_claim)
        if not isinstance(tenant, str) or not tenant:
            raise TokenError(f"token has no {trusted.tenant_claim} claim")
        email = claims.get("email")
        return PersonClaims(
            issuer=trusted.issuer,
            subject=str(claims["sub"]),
            tenant_id=tenant,
            email=email.lower() if isinstance(email, str) else None,
            email_verified=claims.get("email_verified") is True,
            expires_at=int(claims["exp"]),
            local=trusted.local,
        )


class LocalKeys:
    """Our own issuer's key, without a network round trip."""

    def __init__(self, kid: str, jwk: dict[str, Any]) -> None:
        self.kid = kid
        self.jwk = jwt.PyJWK(jwk)

    async def key(self, kid: str) -> jwt.PyJWK | None:
        return self.jwk if kid == self.kid else None
