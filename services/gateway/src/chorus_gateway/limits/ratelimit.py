"""Per-principal rate limits in Redis: GCRA (generic cell rate algorithm) in one Lua call.

GCRA keeps a single number per caller, the "theoretical arrival time" (TAT) of
the next request at the sustained rate; a request is allowed while TAT runs at
most `burst` intervals ahead of now. One atomic script per request, Redis's own
clock (so gateway replicas with skewed clocks agree), and the key expires when
the caller's bucket is full again, so idle callers cost no memory.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.exceptions import RedisError

from chorus_gateway.auth.principal import Principal, RateLimit

log = logging.getLogger(__name__)

_GCRA = """
local interval = tonumber(ARGV[1])
local tolerance = interval * tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
local new_tat = tat + interval
local allow_at = new_tat - tolerance
if allow_at > now then
  return {0, 0, math.ceil(allow_at - now), math.ceil(tat - now)}
end
redis.call('SET', KEYS[1], tostring(new_tat), 'PX', math.ceil(new_tat - now))
return {1, math.floor((tolerance - (new_tat - now)) / interval), 0, math.ceil(new_tat - now)}
"""


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    limit: int
    remaining: int
    retry_after_ms: int
    reset_ms: int
    window_seconds: int

    def headers(self) -> list[tuple[bytes, bytes]]:
        """IETF RateLimit header fields (draft 7), plus Retry-After when refused."""
        out = [
            (b"ratelimit-limit", str(self.limit).encode()),
            (b"ratelimit-remaining", str(max(self.remaining, 0)).encode()),
            (b"ratelimit-reset", str(math.ceil(self.reset_ms / 1000)).encode()),
            (b"ratelimit-policy", f"{self.limit};w={self.window_seconds}".encode()),
        ]
        if not self.allowed:
            out.append(
                (b"retry-after", str(max(1, math.ceil(self.retry_after_ms / 1000))).encode())
            )
        return out


class RateLimiter:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self.script = redis.register_script(_GCRA)

    async def check(self, principal: Principal) -> Verdict | None:
        """The verdict for one more request; None when Redis is unreachable (fail open)."""
        return await self.check_key(principal.tenant_id, principal.principal_id, principal.rate)

    async def check_key(self, tenant_id: str, subject: str, rate: RateLimit) -> Verdict | None:
        interval_ms = 60_000 / rate.per_minute
        key = f"chorus:gateway:{{{tenant_id}}}:rl:{subject}"
        try:
            allowed, remaining, retry_after, reset = await self.script(
                keys=[key], args=[repr(interval_ms), rate.burst]
            )
        except RedisError as exc:
            # Better to serve without limits for a moment than to refuse every caller.
            log.warning("rate limiter unavailable, allowing: %s", exc)
            return None
        return Verdict(
            allowed=bool(allowed),
            limit=rate.burst,
            remaining=int(remaining),
            retry_after_ms=int(retry_after),
            reset_ms=int(reset),
            window_seconds=max(1, math.ceil(rate.burst * interval_ms / 1000)),
        )
