"""Tracked links: unguessable codes and UTM-tagged destinations."""

from __future__ import annotations

import re
import secrets
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from chorus_events.contracts.base import Network

# 9 random bytes = 72 bits → 12 URL-safe characters. Guessing one live code among a
# million takes ~2^52 tries: enumeration is not a way to find other people's links.
CODE_BYTES = 9
CODE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{4,32}$")
UTM_MEDIUM = "employee_advocacy"
_UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_content")


def new_link_code() -> str:
    return secrets.token_urlsafe(CODE_BYTES)


def is_link_code(text: str) -> bool:
    """Whether `text` can be a code at all; anything else is a 404 without a lookup."""
    return CODE_PATTERN.fullmatch(text) is not None


def tracked_url(public_base: str, code: str) -> str:
    return f"{public_base.rstrip('/')}/l/{code}"


def campaign_name(campaign_hashtags: tuple[str, ...], content_id: str) -> str:
    """`utm_campaign`: the first campaign hashtag without '#', else the content id."""
    return campaign_hashtags[0].lstrip("#") if campaign_hashtags else content_id


def destination_with_utm(link_url: str, *, network: Network, campaign: str, share_id: str) -> str:
    """`link_url` with our UTM parameters; its other query parameters and fragment are kept.

    Existing `utm_*` values we set are replaced (a content link copied from another
    campaign must not credit that campaign); parameter order is otherwise preserved.
    """
    parts = urlsplit(link_url)
    kept = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in _UTM_KEYS]
    ours = [
        ("utm_source", network.value),
        ("utm_medium", UTM_MEDIUM),
        ("utm_campaign", campaign),
        ("utm_content", share_id),
    ]
    return urlunsplit(parts._replace(query=urlencode(kept + ours)))
