"""Public keys of token issuers: a remote issuer's JWKS, cached and refreshed.

A token signed with a `kid` we do not know may mean the issuer rotated its keys,
so the JWKS is refetched; but at most once per `min_interval` per issuer, or a
stream of forged kids would turn the gateway into a load generator against the
identity provider.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import httpx
import jwt

log = logging.getLogger(__name__)


def parse_jwks(document: Any) -> dict[str, jwt.PyJWK]:
    """Signing keys by kid; keys without a kid or of an unusable type are skipped."""
    found: dict[str, jwt.PyJWK] = {}
    keys = document.get("keys") if isinstance(document, dict) else None
    for entry in keys if isinstance(keys, list) else []:
        if not isinstance(entry, dict) or entry.get("use", "sig") != "sig":
            continue
        kid = entry.get("kid")
        if not isinstance(kid, str):
            continue
        try:
            found[kid] = jwt.PyJWK(entry)
        except (jwt.PyJWKError, jwt.InvalidKeyError, ValueError, TypeError):
            log.warning("skipping an unusable key %s in a JWKS", kid)
    return found


class RemoteJwks:
    def __init__(
        self,
        url: str,
        client: httpx.AsyncClient,
        *,
        cache_seconds: float,
        min_interval: float,
    ) -> None:
        self.url = url
        self.client = client
        self.cache_seconds = cache_seconds
        self.min_interval = min_interval
        self.keys: dict[str, jwt.PyJWK] = {}
        self.fetched_at = float("-inf")
        self.attempted_at = float("-inf")
        self._lock = asyncio.Lock()

    async def key(self, kid: str) -> jwt.PyJWK | None:
        now = time.monotonic()
        if now - self.fetched_at > self.cache_seconds or (
            kid not in self.keys and now - self.attempted_at >= self.min_interval
        ):
            await self._refresh(kid)
        return self.keys.get(kid)

    async def _refresh(self, kid: str) -> None:
        async with self._lock:
            # Another request may have refreshed while this one waited for the lock.
            now = time.monotonic()
            fresh = now - self.fetched_at <= self.cache_seconds
            if fresh and (kid in self.keys or now - self.attempted_at < self.min_interval):
                return
            self.attempted_at = now
            try:
                response = await self.client.get(self.url)
                response.raise_for_status()
                self.keys = parse_jwks(response.json())
                self.fetched_at = time.monotonic()
            except (httpx.HTTPError, ValueError) as exc:
                # Keep the keys we had: an IdP blip must not sign everybody out.
                log.warning("could not fetch JWKS from %s: %s", self.url, exc)
