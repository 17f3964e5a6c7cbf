"""What submitting an item checks against the tenant's guidelines (pure).

Title and body are checked for blocked terms and topics and for spellings;
each suggested caption is share text, so it is also checked for the category's
required disclosure and the hashtags required on its network.
"""

from __future__ import annotations

from typing import Any

from chorus_content.guidelines.matcher import GuidelineMatcher
from chorus_content.items.schemas import ContentItem


def review(matcher: GuidelineMatcher, item: ContentItem) -> list[dict[str, Any]]:
    """Every violation in `item`, each naming the field it is in (e.g.
    "suggested_captions.linkedin.0"); offsets are into that field's text."""
    found: list[dict[str, Any]] = []
    for field, text in (("title", item.title), ("body", item.body)):
        result = matcher.check(text, share_rules=False)
        found.extend({"field": field, **v.model_dump(mode="json")} for v in result.violations)
    for network, captions in item.suggested_captions.items():
        for index, caption in enumerate(captions):
            result = matcher.check(caption, category=item.category, network=network)
            field = f"suggested_captions.{network.value}.{index}"
            found.extend({"field": field, **v.model_dump(mode="json")} for v in result.violations)
    return found
