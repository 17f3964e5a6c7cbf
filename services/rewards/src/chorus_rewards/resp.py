"""Redis commands packed by hand for the consumer's one big pipeline per batch.

A batch writes tens of thousands of sorted-set members. redis-py packs every
argument through its generic encoder (type checks, a copy per argument), which
cost about four times what formatting the RESP bytes directly does, a third of
the consumer's CPU. Only the shapes the writer needs are here; replies are read
back with the connection's own parser.
"""

from __future__ import annotations

from collections.abc import Mapping

from redis.asyncio import Redis


def _bulk(value: bytes) -> bytes:
    return b"$%d\r\n%s\r\n" % (len(value), value)


def command(*args: str | int) -> bytes:
    parts = [b"*%d\r\n" % len(args)]
    for a in args:
        parts.append(_bulk(str(a).encode()))
    return b"".join(parts)


def zadd(key: str, members: Mapping[str, int], bulks: dict[str, bytes] | None = None) -> bytes:
    """ZADD key score member ... with integer scores (see `scoring`).

    `bulks` remembers each member's encoded bulk string across the calls of one write:
    an advocate is a member of ~18 boards per batch."""
    if bulks is None:
        bulks = {}
    parts = [b"*%d\r\n$4\r\nZADD\r\n" % (2 + 2 * len(members)), _bulk(key.encode())]
    append = parts.append
    for member, score in members.items():
        bulk = bulks.get(member)
        if bulk is None:
            bulk = bulks[member] = _bulk(member.encode())
        digits = b"%d" % score
        append(b"$%d\r\n%s\r\n%s" % (len(digits), digits, bulk))
    return b"".join(parts)


async def send(redis: Redis, commands: list[bytes]) -> None:
    """Send `commands` in one write on one pooled connection and read every reply.

    An error reply raises (after which the connection is dropped rather than
    returned with unread replies); so does a connection error.
    """
    pool = redis.connection_pool
    conn = await pool.get_connection()  # type: ignore[no-untyped-call]
    try:
        await conn.send_packed_command(commands)
        for _ in commands:
            await conn.read_response()
    except BaseException:
        await conn.disconnect()
        raise
    finally:
        await pool.release(conn)
