"""Event payloads of content items: `content.approved` and `content.retired`."""

from __future__ import annotations

from datetime import datetime

from chorus_events.contracts import (
    ContentApproved,
    ContentRetired,
    MediaRef,
    RetirementReason,
    Targeting,
)

from chorus_content.items.schemas import ContentItem


def approved_payload(
    tenant_id: str,
    item: ContentItem,
    *,
    publish_at: datetime,
    approved_by: str,
    approved_at: datetime,
) -> ContentApproved:
    """The self-contained state of `item` as it goes live (raises ValidationError if it
    cannot be represented, which approval checks before committing)."""
    return ContentApproved(
        tenant_id=tenant_id,
        content_id=item.id,
        version=item.version,
        title=item.title,
        body=item.body,
        link_url=item.link_url,
        media=tuple(MediaRef.model_validate(m.model_dump()) for m in item.media),
        category=item.category,
        language=item.language,
        campaign_hashtags=tuple(item.campaign_hashtags),
        suggested_captions={n: tuple(c) for n, c in item.suggested_captions.items()},
        required_disclosure=item.required_disclosure,
        targeting=Targeting(
            audience=item.targeting.audience, team_ids=tuple(item.targeting.team_ids)
        ),
        publish_at=publish_at,
        expires_at=item.expires_at,
        approved_by=approved_by,
        approved_at=approved_at,
    )


def retired_payload(
    tenant_id: str, item: ContentItem, reason: RetirementReason, at: datetime
) -> ContentRetired:
    return ContentRetired(tenant_id=tenant_id, content_id=item.id, reason=reason, retired_at=at)
