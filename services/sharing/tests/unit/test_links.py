"""Tracked links: unguessable codes and UTM parameters that keep the link's own."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

from chorus_events.contracts.base import Network
from chorus_sharing.links import (
    campaign_name,
    destination_with_utm,
    is_link_code,
    new_link_code,
    tracked_url,
)


def test_codes_are_random_url_safe_and_at_least_64_bits() -> None:
    codes = {new_link_code() for _ in range(2000)}
    assert len(codes) == 2000
    assert all(is_link_code(c) and len(c) == 12 for c in codes)  # 12 base64 chars = 72 bits


def test_only_code_shaped_strings_are_codes() -> None:
    for bad in ("https://evil", "//evil.com", "a/b", "abc", "x" * 33, "ab cd", "..%2f"):
        assert not is_link_code(bad)


def test_utm_parameters_are_added_and_existing_ones_kept_in_order() -> None:
    url = destination_with_utm(
        "https://example.com/p?a=1&b=&utm_source=newsletter#section",
        network=Network.X,
        campaign="Launch",
        share_id="s1",
    )
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path, parts.fragment) == (
        "https", "example.com", "/p", "section",
    )  # fmt: skip
    assert parse_qsl(parts.query, keep_blank_values=True) == [
        ("a", "1"),
        ("b", ""),
        ("utm_source", "x"),
        ("utm_medium", "employee_advocacy"),
        ("utm_campaign", "Launch"),
        ("utm_content", "s1"),
    ]


def test_campaign_is_the_first_hashtag_or_the_content_id() -> None:
    assert campaign_name(("#Spring", "#Other"), "c1") == "Spring"
    assert campaign_name((), "c1") == "c1"


def test_tracked_url_is_the_public_base_and_code() -> None:
    assert tracked_url("https://go.example.com/", "AbC") == "https://go.example.com/l/AbC"
