"""Which headers cross the gateway, in each direction."""

from __future__ import annotations

from collections.abc import Iterable

from chorus_platform.identity import IDENTITY_HEADER

# RFC 9110 §7.6.1 hop-by-hop fields, plus what the gateway sets itself.
HOP_BY_HOP = frozenset(
    {
        "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
        "trailer", "transfer-encoding", "upgrade", "host",
    }
)  # fmt: skip
# The caller's credentials stop here; a client-sent identity header is a forgery attempt.
NEVER_FORWARDED = HOP_BY_HOP | {
    "authorization", "x-api-key", "cookie", IDENTITY_HEADER.lower(), "x-request-id",
    "idempotency-key", "content-length", "x-forwarded-for",
}  # fmt: skip
NOT_RETURNED = HOP_BY_HOP | {"x-request-id", "server", "date"}


def request_headers(raw: Iterable[tuple[bytes, bytes]]) -> list[tuple[str, str]]:
    """ASGI's lower-cased byte pairs, minus what must not cross, as text for the client."""
    out = []
    for key, value in raw:
        name = key.decode("latin-1")
        if name not in NEVER_FORWARDED:
            out.append((name, value.decode("latin-1")))
    return out


def response_headers(raw: Iterable[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """The service's header pairs (as received), minus hop-by-hop and our own."""
    return [(k.lower(), v) for k, v in raw if k.decode("latin-1").lower() not in NOT_RETURNED]
