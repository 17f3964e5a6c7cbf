"""Unicode text primitives of guideline matching: case folding, words, term patterns.

The matching rule, stated once:

* Case-insensitive by Unicode case folding, applied per code point so that the
  folded text has exactly the length of the original and every offset found in
  it is an offset into what the caller sent. A character whose folding would
  expand (German "ß" → "ss", Turkish "İ") is kept as it is, so it only matches
  itself.
* A word character is `\\w` plus the combining marks (Unicode category M) of the
  Basic Multilingual Plane: Python's `\\w` leaves out Devanagari vowel signs and
  similar marks, which would otherwise split words in the middle. (Marks beyond
  U+FFFF belong to historic scripts; including them would stop `re` from
  compiling the class into a lookup table and make every check several times
  slower.)
* Whole words: a term whose first (last) character is a word character must not
  be preceded (followed) by one. Scripts written without spaces between words
  (Han, kana, Thai, Lao, Khmer, Myanmar, Tibetan) have no such boundary on that
  side: there a term matches as a substring.
* Korean writes spaces between words, but attaches particles (josa) to the word
  they mark: "삼성은", "Chorus는". A term may therefore be followed by one
  Korean particle (optionally with a topic/additive particle after it) before
  the word boundary; the particle is not part of the reported span.
* Whitespace inside a term matches any run of whitespace in the text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable


def _code_point_ranges(code_points: Iterable[int]) -> str:
    """A regex character-class body for `code_points` (sorted), compressed to ranges."""
    parts: list[str] = []
    start = prev = -2
    for cp in code_points:
        if cp != prev + 1:
            if start >= 0:
                parts.append(_range(start, prev))
            start = cp
        prev = cp
    if start >= 0:
        parts.append(_range(start, prev))
    return "".join(parts)


def _range(first: int, last: int) -> str:
    if first == last:
        return re.escape(chr(first))
    return f"{re.escape(chr(first))}-{re.escape(chr(last))}"


def _bmp_marks() -> str:
    return _code_point_ranges(
        cp for cp in range(0x10000) if unicodedata.category(chr(cp)).startswith("M")
    )


# ZWNJ joins parts of one word in Persian and Indic scripts.
MARKS_CLASS = _bmp_marks()
WORD_CLASS = rf"\w{MARKS_CLASS}\u200c"
WORD = f"[{WORD_CLASS}]"
_WORD_RE = re.compile(WORD)

# Scripts written without spaces between words: no word boundary is required there.
UNSPACED_CLASS = (
    r"\u0e00-\u0eff"  # Thai, Lao
    r"\u0f00-\u0fff"  # Tibetan
    r"\u1000-\u109f"  # Myanmar
    r"\u1780-\u17ff"  # Khmer
    r"\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f"  # Hiragana, Katakana (incl. half-width)
    r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # Han
    r"\U00020000-\U0003134f"  # Han extensions
)
_UNSPACED_RE = re.compile(f"[{UNSPACED_CLASS}]")

# Korean particles (josa) and the copula, longest first so the alternation is greedy.
# fmt: off
_BASE_PARTICLES = (
    "이에요", "입니다", "에서는", "에서도", "에게서", "으로서", "으로써", "이라고",
    "께서", "에서", "에게", "한테", "으로", "까지", "부터", "처럼", "보다", "이나",
    "이랑", "하고", "이다", "이며", "이고", "예요", "이야", "라고", "로서", "로써",
    "은", "는", "이", "가", "을", "를", "의", "에", "께", "로", "와", "과", "도",
    "만", "나", "랑", "야", "며", "고",
)
# fmt: on
_TRAILING_PARTICLES = ("은", "는", "도", "만", "의", "요")
HANGUL_PARTICLE = (
    "(?:"
    + "|".join(sorted(_BASE_PARTICLES, key=len, reverse=True))
    + ")(?:"
    + "|".join(_TRAILING_PARTICLES)
    + ")?"
)

# Appended after a term: nothing is required after an unspaced-script or non-word
# last character; otherwise an optional Korean particle, then no word character.
TERM_END = rf"(?:(?<=[{UNSPACED_CLASS}])|(?<!{WORD})|(?:{HANGUL_PARTICLE})?(?!{WORD}))"

_SPACES = re.compile(r"\s+")


def fold(text: str) -> str:
    """Case-fold `text` code point by code point, keeping its length (see module doc)."""
    folded = text.casefold()
    if len(folded) == len(text):
        # Folding never shortens a code point, so equal lengths mean 1:1 everywhere.
        return folded
    return "".join(_fold_char(ch) for ch in text)


def _fold_char(ch: str) -> str:
    folded = ch.casefold()
    if len(folded) == 1:
        return folded
    lowered = ch.lower()
    return lowered if len(lowered) == 1 else ch


def normalize_term(term: str) -> str:
    """The key a term is known by: folded, whitespace runs collapsed to one space."""
    return _SPACES.sub(" ", fold(term.strip()))


_TOKEN = re.compile(rf"(?:[^\W_]|[{MARKS_CLASS}\u200c])+")


def search_tokens(text: str) -> list[str]:
    """The words of `text` for full-text search: folded runs of letters, digits and marks."""
    return _TOKEN.findall(fold(text))


def is_word_char(ch: str) -> bool:
    return _WORD_RE.match(ch) is not None


def needs_left_boundary(first: str) -> bool:
    return is_word_char(first) and _UNSPACED_RE.match(first) is None


def has_word_char(text: str) -> bool:
    return _WORD_RE.search(text) is not None
