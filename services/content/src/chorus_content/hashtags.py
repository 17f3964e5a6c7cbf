"""Hashtags as callers send them: "#Launch" or "Launch", Unicode letters allowed."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, StringConstraints


def _with_hash(tag: str) -> str:
    # Stored and emitted with the leading '#', the form the event contract requires.
    return tag if tag.startswith("#") else f"#{tag}"


HashtagIn = Annotated[
    str,
    StringConstraints(strip_whitespace=True, pattern=r"^#?\w{1,100}$"),
    AfterValidator(_with_hash),
]
"""`^#?\\w{1,100}$` (Unicode word characters); normalised to start with '#'."""
