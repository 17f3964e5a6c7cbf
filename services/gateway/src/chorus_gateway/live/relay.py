"""Leaderboard change notices: from the rewards service's pub/sub into a replay buffer.

Rewards publishes a notice per applied batch on `chorus:rewards:{<tenant>}:
leaderboard-changes`. Pub/sub forgets a message once delivered, so every gateway
replica appends what it hears to a capped Redis Stream per tenant; the stream
entry id is the SSE event id, identical on every replica, so a client can
reconnect anywhere with `Last-Event-ID`. All replicas hear every notice: a
short-lived marker keyed by the notice's hash lets only the first append it
(checked and appended in one script, so two replicas cannot both win).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging

from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

NOTICE_PATTERN = "chorus:rewards:{*}:leaderboard-changes"
DEDUPE_SECONDS = 120
_APPEND_ONCE = """
if redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[3]) then
  return redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', 'notice', ARGV[1])
end
return false
"""


def stream_key(tenant_id: str) -> str:
    return f"chorus:gateway:{{{tenant_id}}}:leaderboard-stream"


def tenant_of(channel: str) -> str | None:
    start, end = channel.find("{"), channel.find("}")
    return channel[start + 1 : end] if 0 <= start < end else None


class NoticeRelay:
    def __init__(self, redis: Redis, buffer_size: int) -> None:
        self.redis = redis
        self.buffer_size = buffer_size
        self.append_once = redis.register_script(_APPEND_ONCE)
        self._task: asyncio.Task[None] | None = None
        self.subscribed = asyncio.Event()

    async def append(self, tenant_id: str, notice: str) -> None:
        digest = hashlib.sha256(notice.encode()).hexdigest()
        seen = f"chorus:gateway:{{{tenant_id}}}:leaderboard-seen:{digest}"
        await self.append_once(
            keys=[seen, stream_key(tenant_id)], args=[notice, self.buffer_size, DEDUPE_SECONDS]
        )

    async def _run(self) -> None:
        while True:
            pubsub = self.redis.pubsub()
            try:
                await pubsub.psubscribe(NOTICE_PATTERN)
                self.subscribed.set()
                async for message in pubsub.listen():
                    if message.get("type") != "pmessage":
                        continue
                    tenant = tenant_of(str(message["channel"]))
                    if tenant is not None:
                        await self.append(tenant, str(message["data"]))
            except RedisError as exc:
                log.warning("leaderboard notices: Redis connection lost (%s); resubscribing", exc)
                self.subscribed.clear()
                await asyncio.sleep(1.0)
            finally:
                with contextlib.suppress(RedisError):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="leaderboard-notice-relay")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
