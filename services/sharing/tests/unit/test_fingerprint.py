"""Visitor fingerprints never carry the IP; prefixes hide the host."""

from __future__ import annotations

import pytest
from chorus_sharing.fingerprint import VisitorHasher, ip_prefix


def test_hash_is_stable_per_tenant_and_differs_between_tenants_and_salts() -> None:
    hasher = VisitorHasher(b"salt-1")
    one = hasher.visitor_hash("t1", "203.0.113.7", "Mozilla/5.0")
    assert one == hasher.visitor_hash("t1", "203.0.113.7", "Mozilla/5.0")
    assert len(one) == 64 and one == one.lower()
    assert one != hasher.visitor_hash("t2", "203.0.113.7", "Mozilla/5.0")
    assert one != hasher.visitor_hash("t1", "203.0.113.8", "Mozilla/5.0")
    assert one != VisitorHasher(b"salt-2").visitor_hash("t1", "203.0.113.7", "Mozilla/5.0")
    assert "203.0.113.7" not in one


def test_an_empty_salt_is_refused_when_required_and_random_otherwise() -> None:
    with pytest.raises(RuntimeError):
        VisitorHasher.from_setting("", required=True)
    a = VisitorHasher.from_setting("", required=False).visitor_hash("t", "1.2.3.4", "ua")
    b = VisitorHasher.from_setting("", required=False).visitor_hash("t", "1.2.3.4", "ua")
    assert a != b


@pytest.mark.parametrize(
    ("ip", "prefix"),
    [
        ("203.0.113.77", "203.0.113.0/24"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1::/48"),
        ("::ffff:198.51.100.9", "198.51.100.0/24"),
        ("not-an-ip", None),
        (None, None),
    ],
)
def test_ip_prefix(ip: str | None, prefix: str | None) -> None:
    assert ip_prefix(ip) == prefix
