"""The guideline matcher: a tenant's guidelines compiled once, checked against any text.

Pure (no I/O): `GuidelineMatcher(document).check(text, ...)`. Every term of the
policy and style guide (blocked terms, topic keywords, wrong spellings) goes
into one trie-shaped regex (see `terms.TermFinder`), so a check scans the
folded text once (twice if some terms are in scripts without spaces) whatever
the number of terms; a match is looked up by its normalized form to find the
rules it triggers.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from chorus_events.contracts import Network

from chorus_content.guidelines.schemas import (
    CheckResult,
    GuidelinesIn,
    Severity,
    Violation,
    ViolationKind,
)
from chorus_content.guidelines.terms import TermFinder
from chorus_content.guidelines.text import WORD, fold, normalize_term

_HASHTAG = re.compile(f"#{WORD}+")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class _TermRule:
    kind: ViolationKind
    label: str
    """The blocked term, the topic name or the right spelling."""
    reason: str

    def violation(self, start: int, end: int, found: str) -> Violation | None:
        if self.kind is ViolationKind.SPELLING:
            if found == self.label:  # case-insensitive match of the right form itself
                return None
            return Violation(
                kind=self.kind,
                severity=Severity.WARN,
                start=start,
                end=end,
                text=found,
                message=f"Write “{self.label}” instead of “{found}”.",
                suggestion=self.label,
            )
        if self.kind is ViolationKind.BLOCKED_TOPIC:
            message = f"“{found}” touches the blocked topic “{self.label}”"
        else:
            message = f"“{found}” is a blocked term"
        return Violation(
            kind=self.kind,
            severity=Severity.BLOCK,
            start=start,
            end=end,
            text=found,
            message=f"{message}: {self.reason}" if self.reason else f"{message}.",
            suggestion=None,
        )


@dataclass(frozen=True)
class _Disclosure:
    category: str | None
    text: str
    finder: TermFinder


@dataclass(frozen=True)
class _Hashtag:
    display: str
    folded: str
    networks: frozenset[Network]


class GuidelineMatcher:
    """One tenant's guidelines, compiled. Immutable; safe to share between requests."""

    def __init__(self, document: GuidelinesIn) -> None:
        rules: dict[str, dict[tuple[ViolationKind, str], _TermRule]] = {}

        def add(term: str, rule: _TermRule) -> None:
            # One rule per (kind, label) and term: duplicates in the document report once.
            rules.setdefault(normalize_term(term), {}).setdefault((rule.kind, rule.label), rule)

        for blocked in document.policy.blocked_terms:
            add(blocked.term, _TermRule(ViolationKind.BLOCKED_TERM, blocked.term, blocked.reason))
        for topic in document.policy.blocked_topics:
            for keyword in topic.keywords:
                add(keyword, _TermRule(ViolationKind.BLOCKED_TOPIC, topic.topic, topic.reason))
        for spelling in document.style.preferred_spellings:
            add(spelling.wrong, _TermRule(ViolationKind.SPELLING, spelling.right, ""))
        self._rules = {key: tuple(found.values()) for key, found in rules.items()}
        self._finder = TermFinder(self._rules)
        self._disclosures = tuple(
            _Disclosure(d.category, d.text, TermFinder([normalize_term(d.text)]))
            for d in document.policy.required_disclosures
        )
        self._hashtags = tuple(
            _Hashtag(h.hashtag, fold(h.hashtag), frozenset(h.networks))
            for h in document.style.required_hashtags
        )

    @property
    def term_count(self) -> int:
        return len(self._rules)

    def disclosure_for(self, category: str) -> str | None:
        """The disclosure text shares of `category` must include (all that apply, joined)."""
        texts = [d.text for d in self._disclosures if d.category in (None, category)]
        return " ".join(dict.fromkeys(texts)) or None

    def check(
        self,
        text: str,
        *,
        category: str | None = None,
        network: Network | None = None,
        share_rules: bool = True,
    ) -> CheckResult:
        """Every violation of the guidelines in `text`, ordered by position.

        `share_rules` adds what a share's text must contain: the required
        disclosure (of every category, plus `category`'s) and the required
        hashtags (of every network, plus `network`'s). Titles and bodies of
        library items are checked without them.
        """
        folded = fold(text)
        violations = list(self._term_violations(text, folded))
        if share_rules:
            violations.extend(self._missing(text, folded, category, network))
        violations.sort(key=lambda v: (v.start, v.end, v.kind.value))
        return CheckResult(
            ok=all(v.severity is not Severity.BLOCK for v in violations),
            violations=violations,
        )

    def _term_violations(self, text: str, folded: str) -> Iterator[Violation]:
        for start, end in self._finder.find(folded):
            for rule in self._rules[_SPACES.sub(" ", folded[start:end])]:
                violation = rule.violation(start, end, text[start:end])
                if violation is not None:
                    yield violation

    def _missing(
        self, text: str, folded: str, category: str | None, network: Network | None
    ) -> Iterator[Violation]:
        at = len(text)
        for disclosure in self._disclosures:
            if disclosure.category not in (None, category):
                continue
            if not _contains(disclosure.finder, folded):
                yield Violation(
                    kind=ViolationKind.MISSING_DISCLOSURE,
                    severity=Severity.BLOCK,
                    start=at,
                    end=at,
                    text="",
                    message=f"Include the required disclosure “{disclosure.text}”.",
                    suggestion=disclosure.text,
                )
        present = set(_HASHTAG.findall(folded)) if self._hashtags else set()
        for hashtag in self._hashtags:
            if hashtag.networks and network not in hashtag.networks:
                continue
            if hashtag.folded not in present:
                yield Violation(
                    kind=ViolationKind.MISSING_HASHTAG,
                    severity=Severity.WARN,
                    start=at,
                    end=at,
                    text="",
                    message=f"Include the hashtag {hashtag.display}.",
                    suggestion=hashtag.display,
                )


def _contains(pattern: TermFinder, folded: str) -> bool:
    return next(pattern.find(folded), None) is not None
