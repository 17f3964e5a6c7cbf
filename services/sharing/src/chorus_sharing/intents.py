"""Share intents and the final text of a share, per network's rules.

A share intent is the network's own "share this" page: the advocate posts to
their profile with their own session, Chorus never holds their credentials. We
pre-fill text only where the network allows it:

* LinkedIn's share-offsite and XING's share page take a URL only;
* Facebook's sharer takes a URL only, and its Platform Policy forbids pre-filling
  the user's message anyway;
* X's tweet intent takes text and URL;
* e-mail (`mailto:`) takes subject and body;
* Instagram has no web share intent: the client copies the text.

The final text (caption + disclosure + missing campaign hashtags) is always
returned so the advocate can paste it wherever pre-filling is not possible.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from chorus_events.contracts.base import Network

# What each network accepts as post text. X counts every URL as 23 characters
# (t.co) and the intent appends the URL after a space; other limits are the
# networks' documented maxima. len() approximates X's weighted count (CJK counts 2).
TEXT_LIMITS: dict[Network, int] = {
    Network.X: 280,
    Network.LINKEDIN: 3000,
    Network.INSTAGRAM: 2200,
    Network.XING: 3000,
    Network.FACEBOOK: 63206,
}
X_URL_WEIGHT = 23


@dataclass(frozen=True)
class ShareIntent:
    url: str | None
    """Where the client sends the advocate; None when the network has no web intent."""
    prefilled_text: bool
    """Whether `url` carries the text (else the client offers `final_text` to copy)."""


def compose_text(text: str | None, disclosure: str | None, hashtags: tuple[str, ...]) -> str:
    """`text`, then the required disclosure and the campaign hashtags it does not contain yet.

    Containment is case-insensitive (networks treat #Launch and #launch alike), so an
    advocate who already wrote the hashtag into their caption does not get it twice.
    """
    body = (text or "").strip()
    lowered = body.lower()
    tail: list[str] = []
    if disclosure and disclosure.strip().lower() not in lowered:
        tail.append(disclosure.strip())
    for tag in hashtags:
        if not re.search(re.escape(tag.lower()) + r"(?![\w])", lowered) and tag not in tail:
            tail.append(tag)
    if not tail:
        return body
    return f"{body}\n\n{' '.join(tail)}" if body else " ".join(tail)


def text_overflow(network: Network, final_text: str) -> int:
    """How many characters `final_text` is over the network's limit (0 when it fits)."""
    limit = TEXT_LIMITS.get(network)
    if limit is None:
        return 0
    used = len(final_text) + (1 + X_URL_WEIGHT if network is Network.X else 0)
    return max(used - limit, 0)


def share_intent(network: Network, *, url: str, text: str, subject: str) -> ShareIntent:
    """The share intent of `network` for the tracked `url` and the final `text`."""
    if network is Network.LINKEDIN:
        return _only_url("https://www.linkedin.com/sharing/share-offsite/", "url", url)
    if network is Network.FACEBOOK:
        return _only_url("https://www.facebook.com/sharer/sharer.php", "u", url)
    if network is Network.XING:
        return _only_url("https://www.xing.com/spi/shares/new", "url", url)
    if network is Network.X:
        query = urlencode({"text": text, "url": url}, quote_via=quote)
        return ShareIntent(f"https://twitter.com/intent/tweet?{query}", prefilled_text=True)
    if network is Network.EMAIL:
        body = f"{text}\n\n{url}" if text else url
        query = urlencode({"subject": subject, "body": body}, quote_via=quote)
        return ShareIntent(f"mailto:?{query}", prefilled_text=True)
    # Instagram (and any network added later without a web intent): copy and paste.
    return ShareIntent(None, prefilled_text=False)


def _only_url(base: str, param: str, url: str) -> ShareIntent:
    return ShareIntent(f"{base}?{urlencode({param: url}, quote_via=quote)}", prefilled_text=False)
