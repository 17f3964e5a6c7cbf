"""Hashtag extraction, case-insensitive ("#Chorus2" and "#chorus2" are one mention)."""

from __future__ import annotations

import re

# A '#' not preceded by a word character (so "C#" or "a#b" is not a tag), then
# letters, digits or underscores in any script.
_HASHTAG = re.compile(r"(?<![\w#])#(\w+)", re.UNICODE)


def normalise(tag: str) -> str:
    """'#Chorus2' -> '#chorus2' (lowercased, one leading '#')."""
    return "#" + tag.lstrip("#").lower()


def extract(text: str | None) -> list[str]:
    """Distinct normalised hashtags of `text`, in order of first appearance."""
    if not text:
        return []
    found: dict[str, None] = {}
    for match in _HASHTAG.finditer(text):
        found.setdefault(normalise(match.group(1)), None)
    return list(found)
