"""The internal identity token forwarded to services, minted from the principal.

Minting costs a JSON dump and an HMAC; a principal's token is reused for a third
of its lifetime, so a busy caller costs one mint per 20 s, and a service never
sees a token with less than two thirds of its TTL left.
"""

from __future__ import annotations

from chorus_platform.identity import mint_internal_token

from chorus_gateway.auth.principal import Principal
from chorus_gateway.cache import TtlCache


class IdentityMinter:
    def __init__(self, secret: str, ttl_seconds: int) -> None:
        if not secret:
            raise ValueError("CHORUS_INTERNAL_TOKEN_SECRET is required to call the services")
        self.secret = secret
        self.ttl_seconds = ttl_seconds
        self._tokens: TtlCache[Principal, str] = TtlCache(ttl_seconds / 3)

    def token_for(self, principal: Principal) -> str:
        token = self._tokens.get(principal)
        if token is None:
            token = mint_internal_token(
                principal.identity(), self.secret, ttl_seconds=self.ttl_seconds
            )
            self._tokens.put(principal, token)
        return token
