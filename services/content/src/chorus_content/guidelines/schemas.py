"""Guidelines of a tenant (content policy + brand style guide) and the check API.

Limits are `Field` constraints so a 422 names the offending field. A policy
holds at most 2,000 blocked terms, 100 topics of 100 keywords each and 2,000 preferred
spellings: enough for any real style guide, small enough to compile in
milliseconds into one matcher.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from chorus_events.contracts import Network
from chorus_events.contracts.base import Slug
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from chorus_content.guidelines.text import has_word_char
from chorus_content.hashtags import HashtagIn


def _matchable(term: str) -> str:
    if not has_word_char(term):
        raise ValueError("a term needs at least one letter or digit")
    return term


Term = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=100, pattern=r"^[^\n\r\t]+$"),
    AfterValidator(_matchable),
]
"""A word or phrase to find (1-100 characters, one line); matching is whole-word,
case-insensitive, whitespace-tolerant."""
Reason = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]
Note = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]
CheckText = Annotated[str, StringConstraints(max_length=20_000)]


class _Model(BaseModel):
    # Attribute docstrings become the OpenAPI descriptions, limits included.
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)


class BlockedTerm(_Model):
    term: Term
    reason: Reason = ""


class BlockedTopic(_Model):
    topic: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    """A label, e.g. "politics"; the keywords below are what is matched."""
    keywords: Annotated[list[Term], Field(min_length=1, max_length=100)]
    reason: Reason = ""


class RequiredDisclosure(_Model):
    category: Slug | None = None
    """The content category it applies to; null applies to every category."""
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
    """Text every share of such content must include, e.g. "#employee"."""


class FaqEntry(_Model):
    question: Note
    answer: Annotated[str, StringConstraints(strip_whitespace=True, max_length=5000)]


class ContentPolicy(_Model):
    dos: Annotated[list[Note], Field(max_length=50)] = []
    donts: Annotated[list[Note], Field(max_length=50)] = []
    confidential: Annotated[str, StringConstraints(max_length=5000)] = ""
    """What counts as confidential information, in the company's words."""
    blocked_terms: Annotated[list[BlockedTerm], Field(max_length=2000)] = []
    blocked_topics: Annotated[list[BlockedTopic], Field(max_length=100)] = []
    required_disclosures: Annotated[list[RequiredDisclosure], Field(max_length=100)] = []
    faq: Annotated[list[FaqEntry], Field(max_length=100)] = []


class PreferredSpelling(_Model):
    wrong: Term
    right: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class RequiredHashtag(_Model):
    hashtag: HashtagIn
    networks: Annotated[list[Network], Field(max_length=len(Network))] = []
    """Networks it is required on; empty means every network."""


class BrandStyleGuide(_Model):
    preferred_spellings: Annotated[list[PreferredSpelling], Field(max_length=2000)] = []
    required_hashtags: Annotated[list[RequiredHashtag], Field(max_length=30)] = []
    logo_usage: Annotated[str, StringConstraints(max_length=5000)] = ""
    tone_of_voice: Annotated[str, StringConstraints(max_length=5000)] = ""


class GuidelinesIn(_Model):
    """The whole guidelines document; PUT replaces it."""

    policy: ContentPolicy = ContentPolicy()
    style: BrandStyleGuide = BrandStyleGuide()


class GuidelinesOut(GuidelinesIn):
    # Stored documents are read back through this model: tolerate fields a later
    # revision of the document dropped instead of failing every read.
    model_config = ConfigDict(extra="ignore", use_attribute_docstrings=True)

    version: int
    """Starts at 0 (no guidelines yet) and grows by one with every PUT."""
    updated_at: datetime | None = None
    updated_by: str | None = None


class ViolationKind(StrEnum):
    BLOCKED_TERM = "blocked_term"
    BLOCKED_TOPIC = "blocked_topic"
    SPELLING = "spelling"
    MISSING_HASHTAG = "missing_hashtag"
    MISSING_DISCLOSURE = "missing_disclosure"


class Severity(StrEnum):
    BLOCK = "block"
    WARN = "warn"


class CheckRequest(_Model):
    text: CheckText
    """Up to 20,000 characters."""
    category: Slug | None = None
    """Adds the category's required disclosure to the check."""
    network: Network | None = None
    """Adds the hashtags required on that network to the check."""


class Violation(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True)

    kind: ViolationKind
    severity: Severity
    start: int
    """Offset in code points (Python `str` index) into the checked text."""
    end: int
    """Exclusive. start == end == len(text) for something missing (insertion point)."""
    text: str
    message: str
    suggestion: str | None


class CheckResult(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True)

    ok: bool
    """False iff some violation has severity "block"."""
    violations: list[Violation]
