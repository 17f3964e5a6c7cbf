"""Raw tracked-link clicks: `click.recorded` on `clicks.raw` (producer: sharing; consumer: metrics).

The redirect writes this event before answering, so a click that got its
redirect is never lost. It carries no raw IP address: only a network prefix,
which is enough for bot and click-ring detection and is not personal data on
its own.
"""

from __future__ import annotations

import ipaddress
from typing import Annotated
from uuid import UUID

from pydantic import AfterValidator, AwareDatetime, StringConstraints

from chorus_events.contracts.base import EventPayload, Id, LinkCode

# Widest prefixes we accept: an IPv4 /24 or IPv6 /48 hides the host.
_MAX_V4_PREFIX = 24
_MAX_V6_PREFIX = 48


def _truncated_network(value: str) -> str:
    """Accept only a network in CIDR form that is at most a /24 (IPv4) or /48 (IPv6)."""
    # IPv4 without `ipaddress`: parsing there was ~8% of the click consumer's CPU.
    v4 = _ipv4_network(value)
    if v4 is not None:
        return v4
    try:
        network = ipaddress.ip_network(value, strict=True)
    except ValueError:
        # Our own message: ipaddress' one echoes the input, which may be a visitor's IP.
        raise ValueError("ip_prefix must be a network in CIDR form, host bits zero") from None
    limit = _MAX_V4_PREFIX if network.version == 4 else _MAX_V6_PREFIX
    if network.prefixlen > limit:
        raise ValueError(f"ip_prefix must be truncated to /{limit} or shorter")
    return str(network)


def _ipv4_network(value: str) -> str | None:
    """`value` as `ipaddress` would print it, if it is a valid, short enough IPv4
    network; None for anything else (the caller's `ipaddress` path decides, and words
    the error). Same rules as `ipaddress.ip_network(strict=True)`: four decimal octets
    without leading zeros, a decimal prefix length, no host bits set."""
    address, _, bits = value.partition("/")
    octets = address.split(".")
    if len(octets) != 4 or not bits.isdigit() or not bits.isascii():
        return None
    number = 0
    for octet in octets:
        if not (octet.isdigit() and octet.isascii()) or len(octet) > 3:
            return None
        if len(octet) > 1 and octet[0] == "0":
            return None
        part = int(octet)
        if part > 255:
            return None
        number = number << 8 | part
    prefix = int(bits)
    if prefix > _MAX_V4_PREFIX or number & ((1 << (32 - prefix)) - 1):
        return None
    return f"{address}/{prefix}"


IpPrefix = Annotated[
    str,
    StringConstraints(max_length=64, pattern=r"^[0-9A-Fa-f.:]+/[0-9]{1,3}$"),
    AfterValidator(_truncated_network),
]


class ClickRecorded(EventPayload):
    """A visitor followed a tracked link (key `tenant_id:share_id`)."""

    click_id: UUID
    """Unique per click; consumers deduplicate on it."""
    link_code: LinkCode
    share_id: Id
    occurred_at: AwareDatetime
    visitor_hash: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32,128}$")]
    """Keyed hash of the visitor fingerprint (lowercase hex); stable per tenant, not reversible."""
    user_agent: Annotated[str, StringConstraints(max_length=1024)] | None = None
    ip_prefix: IpPrefix | None = None
    """The visitor's network in CIDR form, at most a /24 (IPv4) or /48 (IPv6), host bits zero.

    E.g. "203.0.113.0/24" or "2001:db8:1::/48"; never a full address."""
    referrer: Annotated[str, StringConstraints(max_length=2048)] | None = None
