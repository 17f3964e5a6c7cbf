"""`Idempotency-Key` on POST: the first response is kept for 24 h and replayed.

A key is scoped to its caller (tenant + principal). The first request claims it
with SET NX and a short lease while it runs; a duplicate arriving meanwhile gets
409, a retry after completion gets the stored response (`Idempotent-Replayed:
true`) without reaching the service, and a reuse of the key for a different
request (method, path, query or body differ) gets 422. A 5xx is not stored: the
claim is released so the client's retry really retries. Claim and completion
compare the whole stored value in Lua, so a request whose lease ran out cannot
overwrite the outcome of the one that took over.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from dataclasses import dataclass
from enum import Enum

from redis.asyncio import Redis

_FINISH = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  if ARGV[2] == '' then return redis.call('DEL', KEYS[1]) end
  return redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
end
return 0
"""


class Outcome(Enum):
    CLAIMED = "claimed"
    IN_FLIGHT = "in-flight"
    MISMATCH = "mismatch"
    REPLAY = "replay"


@dataclass(frozen=True)
class StoredResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def dump(self, fingerprint: str) -> str:
        return "D|" + json.dumps(
            {
                "fp": fingerprint,
                "status": self.status,
                "headers": self.headers,
                "body": base64.b64encode(self.body).decode(),
            }
        )

    @staticmethod
    def load(value: str) -> tuple[str, StoredResponse]:
        data = json.loads(value[2:])
        headers = [(str(k), str(v)) for k, v in data["headers"]]
        return data["fp"], StoredResponse(data["status"], headers, base64.b64decode(data["body"]))


@dataclass(frozen=True)
class Claim:
    outcome: Outcome
    key: str = ""
    pending: str = ""
    response: StoredResponse | None = None


def fingerprint(method: str, path: str, query: bytes, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode(), query, body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


class IdempotencyStore:
    def __init__(self, redis: Redis, ttl_seconds: int, lease_seconds: int) -> None:
        self.redis = redis
        self.ttl_seconds = ttl_seconds
        self.lease_seconds = lease_seconds
        self.finish_script = redis.register_script(_FINISH)

    def _key(self, tenant_id: str, principal_id: str, idempotency_key: str) -> str:
        hashed = hashlib.sha256(idempotency_key.encode()).hexdigest()
        return f"chorus:gateway:{{{tenant_id}}}:idem:{principal_id}:{hashed}"

    async def claim(
        self, tenant_id: str, principal_id: str, idempotency_key: str, fp: str
    ) -> Claim:
        key = self._key(tenant_id, principal_id, idempotency_key)
        pending = f"P|{fp}|{secrets.token_hex(8)}"
        if await self.redis.set(key, pending, nx=True, ex=self.lease_seconds):
            return Claim(Outcome.CLAIMED, key, pending)
        raw = await self.redis.get(key)
        current = raw.decode() if isinstance(raw, bytes) else raw
        if current is None:  # expired between the two calls: claim again
            return await self.claim(tenant_id, principal_id, idempotency_key, fp)
        if current.startswith("P|"):
            same = current.split("|")[1] == fp
            return Claim(Outcome.IN_FLIGHT if same else Outcome.MISMATCH)
        stored_fp, response = StoredResponse.load(current)
        if stored_fp != fp:
            return Claim(Outcome.MISMATCH)
        return Claim(Outcome.REPLAY, response=response)

    async def complete(self, claim: Claim, fp: str, response: StoredResponse) -> None:
        await self.finish_script(
            keys=[claim.key], args=[claim.pending, response.dump(fp), self.ttl_seconds]
        )

    async def release(self, claim: Claim) -> None:
        await self.finish_script(keys=[claim.key], args=[claim.pending, "", 0])
