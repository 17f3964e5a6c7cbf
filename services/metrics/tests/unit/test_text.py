"""Hashtags and sentiment of comments on fixed texts."""

from __future__ import annotations

from chorus_metrics.text.hashtags import extract, normalise
from chorus_metrics.text.sentiment import SentimentLabel, analyse, label_for


def test_hashtags_are_case_insensitive_and_distinct() -> None:
    assert extract("Go #Chorus2! #chorus2 and #Launch_Day, not C# or a#b") == [
        "#chorus2",
        "#launch_day",
    ]
    assert extract("Grüße #Straße") == ["#straße"]
    assert extract(None) == []
    assert normalise("Chorus2") == normalise("#CHORUS2") == "#chorus2"


def test_english_is_scored_other_languages_are_not() -> None:
    assert (
        analyse("Congratulations to the whole team, great work!").label is SentimentLabel.POSITIVE
    )
    assert analyse("This is a terrible, disappointing launch.").label is SentimentLabel.NEGATIVE
    german = analyse("Herzlichen Glückwunsch an das ganze Team!")
    assert (german.language, german.score, german.label) == ("de", None, SentimentLabel.UNSCORED)
    assert analyse("   ").label is SentimentLabel.UNSCORED


def test_thresholds() -> None:
    assert label_for(0.05) is SentimentLabel.POSITIVE
    assert label_for(0.0) is SentimentLabel.NEUTRAL
    assert label_for(-0.05) is SentimentLabel.NEGATIVE
