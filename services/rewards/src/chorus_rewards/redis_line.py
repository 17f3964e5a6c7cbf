"""The leaderboard reads' own Redis connection: commands pipelined on one socket.

Why: a redis-py asyncio command costs ~155 us of client CPU even with hiredis
(connection pool checkout, retry wrapper, generic argument encoding, a timeout
per read), about half the service CPU of a leaderboard read. Redis answers the
commands of one connection in order, so many concurrent reads can share a socket:
each call queues its command and a future (the commands of one turn of the event
loop leave in one write); replies, parsed by hiredis, resolve the futures first in,
first out. No checkout, no lock, no per-call timer.

Failure handling: when the connection breaks (or a reply is more than `timeout`
late: one watchdog per connection, not a timer per call), every pending call
fails with `ConnectionError` and the next call connects again. Only plain TCP
Redis URLs are served here (what `from_url` gives for `redis://`);
`for_client` returns None for TLS or Unix sockets and the caller keeps redis-py.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import deque
from typing import Any, cast

import hiredis
from redis.asyncio import Redis
from redis.asyncio.connection import Connection
from redis.exceptions import ResponseError


def _command(args: tuple[str | int, ...]) -> bytes:
    """One command in RESP (an array of bulk strings)."""
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = arg.encode() if isinstance(arg, str) else b"%d" % arg
        parts.append(b"$%d\r\n%b\r\n" % (len(data), data))
    return b"".join(parts)


class _Pending:
    """A call waiting for its reply, or for `batch` replies (`RedisLine.execute_many`)."""

    __slots__ = ("batch", "error", "future", "replies", "sent_at")

    def __init__(self, future: asyncio.Future[Any], sent_at: float, batch: int) -> None:
        self.future, self.sent_at, self.batch = future, sent_at, batch > 0
        self.replies = batch or 1
        self.error: hiredis.ReplyError | None = None


class _Protocol(asyncio.Protocol):
    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.transport: asyncio.Transport | None = None
        self.reader = hiredis.Reader(encoding="utf-8")
        self.pending: deque[_Pending] = deque()
        self.outgoing: list[bytes] = []
        self.watchdog: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not subclasses of asyncio.Transport, but behave as one.
        self.transport = cast(asyncio.Transport, transport)

    def send(self, command: bytes, batch: int = 0) -> asyncio.Future[Any]:
        """Queue `command` (RESP bytes): one command, whose reply the future gets, or with
        `batch`, that many commands end to end, for which it gets the first error reply or
        None once all their replies are in."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        # Commands issued in the same turn of the event loop (concurrent requests) leave
        # in one write: a system call per command cost more than the command.
        if not self.outgoing:
            loop.call_soon(self._flush)
        self.outgoing.append(command)
        self.pending.append(_Pending(future, loop.time(), batch))
        if self.watchdog is None:
            self.watchdog = loop.call_later(self.timeout, self._check)
        return future

    def _flush(self) -> None:
        outgoing, self.outgoing = self.outgoing, []
        if self.transport is not None:
            self.transport.write(b"".join(outgoing))

    def data_received(self, data: bytes) -> None:
        self.reader.feed(data)
        pending, gets = self.pending, self.reader.gets
        while pending:
            reply = gets()
            if reply is False:
                return
            call = pending[0]
            call.replies -= 1
            if call.batch:
                # Replies of a batch are counted and the first error kept here, in one
                # loop: a redis-py read per reply cost ~8 us of client CPU, more than
                # Redis's own work for a small ZADD.
                if call.error is None and isinstance(reply, hiredis.ReplyError):
                    call.error = reply
                if call.replies:
                    continue
                reply = call.error
            pending.popleft()
            if not call.future.done():  # a caller that was cancelled meanwhile
                call.future.set_result(reply)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        if self.watchdog is not None:
            self.watchdog.cancel()
        while self.pending:
            future = self.pending.popleft().future
            if not future.done():
                future.set_exception(ConnectionError(f"redis connection lost: {exc!r}"))

    def _check(self) -> None:
        self.watchdog = None
        if not self.pending or self.transport is None:
            return
        loop = asyncio.get_running_loop()
        late = loop.time() - self.pending[0].sent_at
        if late >= self.timeout:
            self.transport.abort()  # connection_lost fails every pending call
            return
        self.watchdog = loop.call_later(self.timeout - late, self._check)

    @property
    def usable(self) -> bool:
        return self.transport is not None and not self.transport.is_closing()


class RedisLine:
    """One pipelined connection to a plain TCP Redis, for read commands and Lua scripts,
    or for the consumer's batch writes (`execute_many`)."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        db: int = 0,
        username: str | None = None,
        password: str | None = None,
        timeout: float = 5.0,
    ) -> None:
        self.host, self.port, self.db = host, port, db
        self.username, self.password = username, password
        self.timeout = timeout
        self._protocol: _Protocol | None = None
        self._connecting = asyncio.Lock()

    @classmethod
    def for_client(cls, redis: Redis) -> RedisLine | None:
        """A line to the server `redis` talks to, or None if it is not plain TCP."""
        pool = redis.connection_pool
        if pool.connection_class is not Connection:
            return None
        kw = pool.connection_kwargs
        return cls(
            kw.get("host", "localhost"),
            int(kw.get("port", 6379)),
            db=int(kw.get("db", 0) or 0),
            username=kw.get("username"),
            password=kw.get("password"),
            timeout=float(kw.get("socket_timeout") or 5.0),
        )

    async def execute(self, *args: str | int) -> Any:
        """Send one command; its reply (errors raised as redis-py's `ResponseError`)."""
        protocol = self._protocol
        if protocol is None or not protocol.usable:
            protocol = await self._connect()
        reply = await protocol.send(_command(args))
        if isinstance(reply, hiredis.ReplyError):
            raise ResponseError(str(reply))
        return reply

    async def execute_many(self, commands: list[bytes]) -> None:
        """Send `commands` (each a whole RESP command) in one write and wait for all their
        replies, which are dropped; the first error reply is raised as `ResponseError`
        once every reply is in (the connection stays in step)."""
        if not commands:
            return
        protocol = self._protocol
        if protocol is None or not protocol.usable:
            protocol = await self._connect()
        error = await protocol.send(b"".join(commands), batch=len(commands))
        if error is not None:
            raise ResponseError(str(error))

    async def _connect(self) -> _Protocol:
        async with self._connecting:
            if self._protocol is not None and self._protocol.usable:
                return self._protocol  # another caller connected meanwhile
            loop = asyncio.get_running_loop()
            _, protocol = await asyncio.wait_for(
                loop.create_connection(lambda: _Protocol(self.timeout), self.host, self.port),
                self.timeout,
            )
            setup: list[tuple[str | int, ...]] = []
            if self.password:
                user = (self.username,) if self.username else ()
                setup.append(("AUTH", *user, self.password))
            if self.db:
                setup.append(("SELECT", self.db))
            for command in setup:
                reply = await asyncio.wait_for(protocol.send(_command(command)), self.timeout)
                if isinstance(reply, hiredis.ReplyError):
                    assert protocol.transport is not None
                    protocol.transport.close()
                    raise ConnectionError(f"redis {command[0]} failed: {reply}")
            self._protocol = protocol
            return protocol

    async def close(self) -> None:
        if self._protocol is not None and self._protocol.transport is not None:
            self._protocol.transport.close()
        self._protocol = None


class LineScript:
    """A Lua script run by its SHA on a `RedisLine`, loaded again if the server lost it."""

    def __init__(self, line: RedisLine, source: str) -> None:
        self.line = line
        self.source = source
        # Redis names scripts by SHA-1: an identifier, not a security measure.
        self.sha = hashlib.sha1(source.encode(), usedforsecurity=False).hexdigest()

    async def __call__(self, keys: list[str], args: list[str | int]) -> Any:
        try:
            return await self.line.execute("EVALSHA", self.sha, len(keys), *keys, *args)
        except ResponseError as exc:
            if not str(exc).startswith("NOSCRIPT"):
                raise
            return await self.line.execute("EVAL", self.source, len(keys), *keys, *args)
