"""From a request's credentials to a `Principal`: an API key or a person's bearer token.

Hot path: a verified key or token and a person's directory entry are reused for
`principal_cache_seconds`, which is therefore how long a revocation, a role change
or a suspension takes to reach a gateway replica (the replica that made the change
forgets at once).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import asyncpg
from chorus_platform.identity import PrincipalKind, Role
from chorus_platform.problems import Forbidden, Unauthorized

from chorus_gateway.auth import apikeys
from chorus_gateway.auth.last_used import LastUsedRecorder
from chorus_gateway.auth.principal import Principal, RateLimit
from chorus_gateway.auth.repository import AuthRepository
from chorus_gateway.auth.scopes import roles_for_scopes
from chorus_gateway.auth.tokens import PersonClaims, TokenError, TokenVerifier
from chorus_gateway.cache import TtlCache

API_KEY_HEADER = "x-api-key"


class Authenticator:
    def __init__(
        self,
        repository: AuthRepository,
        verifier: TokenVerifier,
        pepper: bytes,
        default_rate: RateLimit,
        last_used: LastUsedRecorder,
        cache_seconds: float,
    ) -> None:
        self.repository = repository
        self.verifier = verifier
        self.pepper = pepper
        self.default_rate = default_rate
        self.last_used = last_used
        self.keys: TtlCache[str, Principal] = TtlCache(cache_seconds)
        self.people: TtlCache[tuple[str, str, str], Principal] = TtlCache(cache_seconds)
        self.tokens: TtlCache[str, PersonClaims] = TtlCache(300.0)

    async def authenticate(self, authorization: str | None, api_key: str | None) -> Principal:
        credential = api_key
        if credential is None and authorization:
            scheme, _, value = authorization.partition(" ")
            if scheme.lower() != "bearer" or not value.strip():
                raise Unauthorized("use 'Authorization: Bearer <token or API key>'")
            credential = value.strip()
        if not credential:
            raise Unauthorized("authentication required: a bearer token or an API key")
        if apikeys.looks_like_key(credential):
            return await self._api_key(credential)
        return await self._person(credential)

    def forget(self) -> None:
        """Drop cached principals (after a directory change made on this replica)."""
        self.keys.clear()
        self.people.clear()

    async def _api_key(self, presented: str) -> Principal:
        cached = self.keys.get(presented)
        if cached is None:
            cached = await self._load_key(presented)
            self.keys.put(presented, cached)
        self.last_used.mark(cached.principal_id)
        return cached

    async def _load_key(self, presented: str) -> Principal:
        key_id = apikeys.parse_key(presented)
        row = await self.repository.api_key(key_id) if key_id else None
        if row is None or not apikeys.key_matches(self.pepper, presented, row["secret_hash"]):
            raise Unauthorized("invalid API key")
        now = datetime.now(UTC)
        if row["revoked_at"] is not None:
            raise Unauthorized("API key revoked")
        if row["expires_at"] is not None and row["expires_at"] <= now:
            raise Unauthorized("API key expired")
        scopes = frozenset(row["scopes"])
        return Principal(
            tenant_id=row["tenant_id"],
            principal_id=row["id"],
            kind=PrincipalKind.API_KEY,
            roles=roles_for_scopes(scopes),
            scopes=scopes,
            team_ids=frozenset(),
            rate=self._rate(row),
        )

    async def _person(self, token: str) -> Principal:
        claims = self.tokens.get(token)
        if claims is None:
            try:
                claims = await self.verifier.verify(token)
            except TokenError as exc:
                raise Unauthorized(str(exc)) from exc
            self.tokens.put(token, claims, ttl=min(300.0, claims.expires_at - time.time()))
        elif claims.expires_at <= time.time():
            raise Unauthorized("token expired")
        cache_key = (claims.issuer, claims.tenant_id, claims.subject)
        principal = self.people.get(cache_key)
        if principal is None:
            principal = await self._load_person(claims)
            self.people.put(cache_key, principal)
        return principal

    async def _load_person(self, claims: PersonClaims) -> Principal:
        repo = self.repository
        if claims.local:
            row = await repo.person_by_id(claims.tenant_id, claims.subject)
        else:
            row = await repo.person_by_subject(claims.tenant_id, claims.subject)
            if row is None and claims.email and claims.email_verified:
                row = await repo.person_by_email(claims.tenant_id, claims.email)
        if row is None:
            raise Unauthorized("the token's person is not in this tenant's directory")
        if row["enrolment"] == "suspended":
            raise Forbidden("this account is suspended")
        if row["enrolment"] == "invited":
            await repo.mark_enrolled(claims.tenant_id, row["id"])
        return self.person_principal(row)

    def person_principal(self, row: asyncpg.Record) -> Principal:
        return Principal(
            tenant_id=row["tenant_id"],
            principal_id=row["id"],
            kind=PrincipalKind.PERSON,
            roles=frozenset(Role(r) for r in row["roles"]),
            scopes=frozenset(),
            team_ids=frozenset(row["team_ids"]),
            rate=self._rate(row),
        )

    def _rate(self, row: asyncpg.Record) -> RateLimit:
        return RateLimit(
            per_minute=row["rate_limit_per_minute"] or self.default_rate.per_minute,
            burst=row["rate_limit_burst"] or self.default_rate.burst,
        )
