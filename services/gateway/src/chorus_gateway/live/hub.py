"""Fans the tenants' notice streams out to this replica's SSE clients.

One task reads every stream that has a local listener with a single blocking
XREAD (one Redis connection however many clients), remembering per tenant the
last id it read. A client joining is put on the fan-out list first and then
replays, from the buffer, what came after its `Last-Event-ID` up to the hub's
position: everything later reaches it through the hub, so nothing is skipped
or sent twice. A client that does not keep up is dropped (its queue is full);
it reconnects with `Last-Event-ID` and replays.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from chorus_gateway.live.relay import stream_key

log = logging.getLogger(__name__)
BLOCK_MS = 1000
QUEUE_SIZE = 256

Entry = tuple[str, str]
"""(stream id, notice JSON)."""


def _entries(raw: Any) -> list[Entry]:
    """redis-py's [(id, {field: value})] as [(id, notice)] (the client decodes to str)."""
    return [(str(entry_id), str(fields["notice"])) for entry_id, fields in raw or []]


def _id(entry_id: str) -> tuple[int, int]:
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)


@dataclass(eq=False)
class Listener:
    tenant_id: str
    replay: list[Entry] = field(default_factory=list)
    missed: bool = False
    """Its Last-Event-ID is older than the buffer: the client should re-read the board."""
    queue: asyncio.Queue[Entry | None] = field(default_factory=lambda: asyncio.Queue(QUEUE_SIZE))


class LeaderboardHub:
    def __init__(self, redis: Redis) -> None:
        # redis-py's stream commands are loosely typed; entries are converted by _entries.
        self.redis: Any = redis
        self.listeners: dict[str, set[Listener]] = {}
        self.cursors: dict[str, str] = {}
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def join(self, tenant_id: str, last_event_id: str | None) -> Listener:
        key = stream_key(tenant_id)
        if tenant_id not in self.cursors:
            newest = _entries(await self.redis.xrevrange(key, count=1))
            self.cursors[tenant_id] = newest[0][0] if newest else "0-0"
        upto = self.cursors[tenant_id]
        listener = Listener(tenant_id)
        self.listeners.setdefault(tenant_id, set()).add(listener)
        self._wake.set()
        if last_event_id is not None and _valid(last_event_id) and _id(last_event_id) < _id(upto):
            oldest = _entries(await self.redis.xrange(key, count=1))
            entries = _entries(await self.redis.xrange(key, min=f"({last_event_id}", max=upto))
            listener.replay = entries
            # The client's last event is no longer buffered: some may have been trimmed.
            listener.missed = bool(oldest) and _id(oldest[0][0]) > _id(last_event_id)
        return listener

    def leave(self, listener: Listener) -> None:
        members = self.listeners.get(listener.tenant_id)
        if members is not None:
            members.discard(listener)
            if not members:
                del self.listeners[listener.tenant_id]
                self.cursors.pop(listener.tenant_id, None)

    def _deliver(self, tenant_id: str, entry: Entry) -> None:
        for listener in list(self.listeners.get(tenant_id, ())):
            try:
                listener.queue.put_nowait(entry)
            except asyncio.QueueFull:
                self.leave(listener)
                with contextlib.suppress(asyncio.QueueFull):
                    listener.queue.get_nowait()
                    listener.queue.put_nowait(None)  # tells the client's stream to end

    async def _run(self) -> None:
        while True:
            if not self.listeners:
                self._wake.clear()
                await self._wake.wait()
                continue
            streams = {stream_key(t): self.cursors[t] for t in self.listeners if t in self.cursors}
            try:
                answer = await self.redis.xread(streams, block=BLOCK_MS)
            except RedisError as exc:
                log.warning("leaderboard hub: %s", exc)
                await asyncio.sleep(1.0)
                continue
            for key, raw in answer or []:
                tenant = str(key)[str(key).find("{") + 1 : str(key).find("}")]
                for entry in _entries(raw):
                    if tenant in self.cursors:
                        self.cursors[tenant] = entry[0]
                    self._deliver(tenant, entry)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="leaderboard-hub")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for members in list(self.listeners.values()):
            for listener in list(members):
                with contextlib.suppress(asyncio.QueueFull):
                    listener.queue.put_nowait(None)
        self.listeners.clear()


def _valid(entry_id: str) -> bool:
    ms, sep, seq = entry_id.partition("-")
    return ms.isdigit() and (not sep or seq.isdigit())
