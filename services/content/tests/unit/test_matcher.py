"""The guideline matcher on its own: Unicode words, offsets, particles, scripts, rules."""

from __future__ import annotations

import random
import re
from typing import Any

import pytest
from chorus_content.guidelines.matcher import GuidelineMatcher
from chorus_content.guidelines.schemas import GuidelinesIn
from chorus_content.guidelines.text import fold, search_tokens
from chorus_events.contracts import Network


def _matcher(
    blocked: list[str] = (),  # type: ignore[assignment]
    spellings: dict[str, str] | None = None,
    **document: Any,
) -> GuidelineMatcher:
    doc: dict[str, Any] = {
        "policy": {"blocked_terms": [{"term": t, "reason": "r"} for t in blocked]},
        "style": {
            "preferred_spellings": [{"wrong": w, "right": r} for w, r in (spellings or {}).items()]
        },
    }
    for section, values in document.items():
        doc[section].update(values)
    return GuidelineMatcher(GuidelinesIn.model_validate(doc))


def _spans(matcher: GuidelineMatcher, text: str, **kwargs: Any) -> list[tuple[str, int, int]]:
    return [(v.text, v.start, v.end) for v in matcher.check(text, **kwargs).violations]


def test_whole_words_only_case_insensitive() -> None:
    m = _matcher(["ass", "acme"])
    assert _spans(m, "a class act; ACME, Acme's, acmes") == [("ACME", 13, 17), ("Acme", 19, 23)]


def test_offsets_are_code_points_with_emoji_and_skin_tones() -> None:
    m = _matcher(["chorus"])
    text = "👍🏽🎉 Chorus!"
    assert _spans(m, text) == [("Chorus", 4, 10)]
    assert text[4:10] == "Chorus"


def test_korean_terms_match_before_particles_and_not_inside_other_words() -> None:
    m = _matcher(["삼성", "chorus"])
    text = "삼성은 좋고 삼성에서도 일하고 Chorus는 최고, 삼성전자는 아님"
    assert _spans(m, text) == [("삼성", 0, 2), ("삼성", 7, 9), ("Chorus", 17, 23)]


def test_unspaced_scripts_match_as_substrings() -> None:
    m = _matcher(["東京", "ราคา"])
    assert _spans(m, "今日は東京タワーへ") == [("東京", 3, 5)]
    assert _spans(m, "ลดราคาพิเศษ") == [("ราคา", 2, 6)]


def test_combining_marks_belong_to_the_word() -> None:
    # Devanagari vowel signs are not `\w` in Python: a naive boundary would split here.
    m = _matcher(["हिंदी", "क"])
    assert _spans(m, "हिंदी हिंदीं किताब") == [("हिंदी", 0, 5)]


def test_folding_keeps_offsets_when_a_character_would_expand() -> None:
    m = _matcher(["strasse", "istanbul"])
    # "ß" and "İ" expand when case-folded; they are kept, so later offsets stay exact.
    text = "Große İstanbul STRASSE"
    assert fold(text) == "große İstanbul strasse"
    assert _spans(m, text) == [("STRASSE", 15, 22)]
    assert _spans(_matcher(["σοφία"]), "ΣΟΦΊΑ σοφίας") == [("ΣΟΦΊΑ", 0, 5)]
    assert _spans(_matcher(["λόγος"]), "ΛΌΓΟΣ") == [("ΛΌΓΟΣ", 0, 5)]  # final sigma folds


def test_phrases_tolerate_any_whitespace_and_nested_terms_are_all_reported() -> None:
    m = _matcher(["acme corp", "corp"])
    assert _spans(m, "ACME\n  Corp rocks") == [("ACME\n  Corp", 0, 11), ("Corp", 7, 11)]


def test_spelling_suggests_the_right_form_but_accepts_it_as_written() -> None:
    m = _matcher(spellings={"github": "GitHub", "Hootsuite": "Chorus"})
    result = m.check("Github, GitHub, github and HOOTSUITE")
    assert [(v.text, v.suggestion, v.severity.value) for v in result.violations] == [
        ("Github", "GitHub", "warn"),
        ("github", "GitHub", "warn"),
        ("HOOTSUITE", "Chorus", "warn"),
    ]
    assert result.ok


def test_topics_disclosures_and_hashtags() -> None:
    m = _matcher(
        policy={
            "blocked_topics": [{"topic": "politics", "keywords": ["vote"], "reason": "neutral"}],
            "required_disclosures": [
                {"category": "recruiting", "text": "#employee"},
                {"text": "my views"},
            ],
        },
        style={
            "required_hashtags": [
                {"hashtag": "#Chorus"},
                {"hashtag": "Hiring", "networks": ["linkedin"]},
            ]
        },
    )
    text = "Vote for us! #chorus (my  views)"
    result = m.check(text, category="recruiting", network=Network.LINKEDIN)
    kinds = [(v.kind.value, v.severity.value, v.start, v.suggestion) for v in result.violations]
    end = len(text)
    assert kinds == [
        ("blocked_topic", "block", 0, None),
        ("missing_disclosure", "block", end, "#employee"),
        ("missing_hashtag", "warn", end, "#Hiring"),
    ]
    assert not result.ok
    # Other category and network: only what applies everywhere is required.
    assert [v.kind.value for v in m.check(text, network=Network.X).violations] == ["blocked_topic"]
    assert [v.kind.value for v in m.check("Hello", share_rules=False).violations] == []
    assert m.disclosure_for("recruiting") == "#employee my views"
    assert m.disclosure_for("culture") == "my views"


def test_an_empty_policy_finds_nothing() -> None:
    result = GuidelineMatcher(GuidelinesIn()).check("anything at all 🎉")
    assert result.ok
    assert result.violations == []


def test_a_large_policy_agrees_with_one_regex_per_term() -> None:
    """The trie-shaped pattern (with its bucketed alternations) finds exactly what a
    naive search term by term finds, on random Latin and Hangul text."""
    rng = random.Random(4)
    hangul = [chr(c) for c in range(0xAC00, 0xAC00 + 40)]
    latin = list("abcdefgh")

    def word(alphabet: list[str]) -> str:
        return "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 4)))

    terms = sorted({word(latin) for _ in range(300)} | {word(hangul) for _ in range(300)})
    m = _matcher(terms)
    words = [word(latin) for _ in range(300)] + [
        word(hangul) + rng.choice(["", "은", "에서"]) for _ in range(300)
    ]
    rng.shuffle(words)
    text = " ".join(words)
    expected = set()
    for term in terms:
        pattern = rf"(?<!\w){re.escape(term)}(?:은|에서)?(?!\w)"
        for match in re.finditer(pattern, text):
            expected.add((term, match.start(), match.start() + len(term)))
    found = {(t, s, e) for (t, s, e) in _spans(m, text)}
    # The matcher reports, for one start, the longest term only.
    longest: dict[int, tuple[str, int, int]] = {}
    for hit in sorted(expected, key=lambda h: h[2]):
        longest[hit[1]] = hit
    assert found == set(longest.values())
    assert len(found) > 50


@pytest.mark.parametrize(
    ("query", "tokens"),
    [
        ("삼성 Chorus!", ["삼성", "chorus"]),
        ("हिंदी", ["हिंदी"]),
        ("🎉 _ !", []),
        ("ÜBER_cool", ["über", "cool"]),
    ],
)
def test_search_tokens(query: str, tokens: list[str]) -> None:
    assert search_tokens(query) == tokens
