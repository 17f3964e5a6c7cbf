"""Sentiment of comments: VADER for English, "unscored" for other languages.

VADER's lexicon is English; scoring another language with it would report
"neutral" for text it cannot read, which is a wrong figure rather than a
missing one. So the language is identified first (py3langid, a model shipped
inside the package) among a set of common languages, and only text whose most
likely language is English is scored. Very short texts ("ok", "wow") are often
not identified as English and stay unscored: an honest gap, not a guess.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import Final

from py3langid.langid import MODEL_FILE, LanguageIdentifier  # type: ignore[import-untyped]
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer  # type: ignore[import-untyped]

SCORED_LANGUAGES: Final = frozenset({"en"})
CANDIDATE_LANGUAGES: Final = (
    "en", "de", "fr", "es", "it", "nl", "pt", "sv", "da", "no", "fi", "pl",
    "cs", "tr", "ru", "ja", "zh", "ko", "ar", "hi",
)  # fmt: skip
# VADER's documented thresholds on the compound score.
POSITIVE_FROM: Final = 0.05
NEGATIVE_TO: Final = -0.05
METHOD: Final = "vader-3.3.2 (English); py3langid language identification"


class SentimentLabel(StrEnum):
    POSITIVE = "positive"
    NEUTRAL = "neutral"
    NEGATIVE = "negative"
    UNSCORED = "unscored"


@dataclass(frozen=True)
class Sentiment:
    language: str | None
    score: float | None
    """VADER compound score in [-1, 1]; None when unscored."""
    label: SentimentLabel


@lru_cache(maxsize=1)
def _identifier() -> LanguageIdentifier:
    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(CANDIDATE_LANGUAGES))
    return identifier


@lru_cache(maxsize=1)
def _vader() -> SentimentIntensityAnalyzer:
    return SentimentIntensityAnalyzer()


def label_for(score: float) -> SentimentLabel:
    if score >= POSITIVE_FROM:
        return SentimentLabel.POSITIVE
    if score <= NEGATIVE_TO:
        return SentimentLabel.NEGATIVE
    return SentimentLabel.NEUTRAL


def analyse(text: str | None) -> Sentiment:
    if text is None or not text.strip():
        return Sentiment(None, None, SentimentLabel.UNSCORED)
    language, _probability = _identifier().classify(text)
    if language not in SCORED_LANGUAGES:
        return Sentiment(str(language), None, SentimentLabel.UNSCORED)
    score = float(_vader().polarity_scores(text)["compound"])
    return Sentiment(str(language), score, label_for(score))
