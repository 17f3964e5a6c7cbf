"""Share intents follow each network's rules; the final text is always there to copy."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from chorus_events.contracts.base import Network
from chorus_sharing.intents import compose_text, share_intent, text_overflow

URL = "https://go.example.com/l/AbC123_-xyz0"
TEXT = "Proud of this launch & more\n\n#employee #ChorusLaunch"


def _query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


@pytest.mark.parametrize(
    ("network", "base", "param"),
    [
        (Network.LINKEDIN, "https://www.linkedin.com/sharing/share-offsite/", "url"),
        (Network.FACEBOOK, "https://www.facebook.com/sharer/sharer.php", "u"),
        (Network.XING, "https://www.xing.com/spi/shares/new", "url"),
    ],
)
def test_url_only_networks_get_the_tracked_link_and_no_text(
    network: Network, base: str, param: str
) -> None:
    intent = share_intent(network, url=URL, text=TEXT, subject="Launch")
    assert intent.url is not None and intent.url.startswith(base + "?")
    assert _query(intent.url) == {param: [URL]}
    assert intent.prefilled_text is False


def test_facebook_never_carries_the_message() -> None:
    intent = share_intent(Network.FACEBOOK, url=URL, text=TEXT, subject="Launch")
    assert intent.url is not None and "Proud" not in intent.url and "quote" not in intent.url


def test_x_prefills_text_and_url() -> None:
    intent = share_intent(Network.X, url=URL, text=TEXT, subject="Launch")
    assert intent.url is not None and intent.url.startswith("https://twitter.com/intent/tweet?")
    assert _query(intent.url) == {"text": [TEXT], "url": [URL]}
    assert "%20" in intent.url and "+" not in intent.url  # spaces stay spaces everywhere
    assert intent.prefilled_text


def test_email_puts_the_link_after_the_text() -> None:
    intent = share_intent(Network.EMAIL, url=URL, text=TEXT, subject="Chorus 2.0 is out")
    assert intent.url is not None and intent.url.startswith("mailto:?")
    assert _query(intent.url) == {"subject": ["Chorus 2.0 is out"], "body": [f"{TEXT}\n\n{URL}"]}


def test_instagram_has_no_intent_only_text_to_copy() -> None:
    intent = share_intent(Network.INSTAGRAM, url=URL, text=TEXT, subject="Launch")
    assert (intent.url, intent.prefilled_text) == (None, False)


def test_final_text_adds_disclosure_and_only_missing_hashtags() -> None:
    assert compose_text("Big day", "#employee", ("#Launch", "#Chorus")) == (
        "Big day\n\n#employee #Launch #Chorus"
    )
    assert compose_text("Big day for #launch #employee", "#employee", ("#Launch",)) == (
        "Big day for #launch #employee"
    )
    # "#Launch" inside "#LaunchDay" is another hashtag: still added.
    assert compose_text("#LaunchDay", None, ("#Launch",)) == "#LaunchDay\n\n#Launch"
    assert compose_text(None, "Ad", ("#A",)) == "Ad #A"


def test_x_counts_the_link_as_23_characters() -> None:
    assert text_overflow(Network.X, "a" * 256) == 0
    assert text_overflow(Network.X, "a" * 260) == 4
    assert text_overflow(Network.EMAIL, "a" * 100_000) == 0
