"""Privacy-preserving visitor identity for clicks: keyed hash and network prefix.

Neither leaves the process with the raw IP address. The hash key is derived per
tenant from the service's salt, so the same visitor has a stable hash within a
tenant (fraud detection needs that) but two tenants' click streams cannot be
joined on it, and without the salt a hash cannot be confirmed by brute-forcing
the IPv4 space.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import secrets
from functools import lru_cache

log = logging.getLogger(__name__)
IPV4_PREFIX = 24
IPV6_PREFIX = 48


class VisitorHasher:
    def __init__(self, salt: bytes) -> None:
        if not salt:
            raise ValueError("the click salt must not be empty")
        self._salt = salt
        self._tenant_key = lru_cache(maxsize=4096)(self._derive)

    @classmethod
    def from_setting(cls, salt: str, *, required: bool) -> VisitorHasher:
        """The hasher for the configured salt; a random one (with a warning) when allowed."""
        if salt:
            return cls(salt.encode())
        if required:
            raise RuntimeError("CHORUS_SHARING_CLICK_SALT is required (require_click_salt)")
        log.warning(
            "CHORUS_SHARING_CLICK_SALT is empty: using a random salt, so visitor hashes "
            "change on restart and differ between replicas (fine for development only)"
        )
        return cls(secrets.token_bytes(32))

    def _derive(self, tenant_id: str) -> bytes:
        return hmac.new(self._salt, b"visitor:" + tenant_id.encode(), hashlib.sha256).digest()

    def visitor_hash(self, tenant_id: str, ip: str | None, user_agent: str | None) -> str:
        """HMAC-SHA256(tenant key, ip + "|" + user_agent), lowercase hex."""
        message = f"{ip or ''}|{user_agent or ''}".encode()
        return hmac.new(self._tenant_key(tenant_id), message, hashlib.sha256).hexdigest()


def _octet(text: str) -> bool:
    return text.isascii() and text.isdigit() and len(text) <= 3 and int(text) <= 255


def ip_prefix(ip: str | None) -> str | None:
    """The visitor's /24 (IPv4) or /48 (IPv6) network in CIDR form; None if not an IP."""
    if not ip:
        return None
    # Plain dotted IPv4 (nearly every visitor) without `ipaddress`, which costs more
    # than the rest of the redirect's fingerprinting together.
    octets = ip.split(".")
    if len(octets) == 4 and all(
        o.isascii() and o.isdigit() and len(o) <= 3 and int(o) <= 255 for o in octets
    ):
        return f"{int(octets[0])}.{int(octets[1])}.{int(octets[2])}.0/24"
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    prefix = IPV4_PREFIX if address.version == 4 else IPV6_PREFIX
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))
