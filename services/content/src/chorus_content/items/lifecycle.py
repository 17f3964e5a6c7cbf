"""Steps that make an item go live or stop being live, each with its audit entry and
event in the caller's transaction. Shared by approval (publish at once), archive and
the scheduler, so an event is emitted by exactly the transaction that changes state.
"""

from __future__ import annotations

from datetime import datetime

from chorus_events.contracts import CONTENT_APPROVED, CONTENT_RETIRED, RetirementReason

from chorus_content.db import Tx
from chorus_content.items.events import approved_payload, retired_payload
from chorus_content.items.schemas import ContentItem
from chorus_content.items.workflow import Action, ContentState, next_state

SYSTEM_ACTOR = "system"
"""Actor of the automatic steps (publish, expire) in the audit trail."""


async def publish(tx: Tx, tenant_id: str, item: ContentItem, *, at: datetime) -> ContentItem:
    """approved → published, emitting content.approved."""
    state = next_state(item.state, Action.PUBLISH)
    assert item.approved_by is not None and item.approved_at is not None
    published = await tx.items.set_state(tenant_id, item.id, state, published_at=at)
    await tx.audit.record(
        tenant_id,
        item.id,
        action=Action.PUBLISH.value,
        from_state=item.state,
        to_state=state,
        actor=SYSTEM_ACTOR,
    )
    await tx.emit(
        CONTENT_APPROVED,
        approved_payload(
            tenant_id,
            published,
            publish_at=item.publish_at or at,
            approved_by=item.approved_by,
            approved_at=item.approved_at,
        ),
    )
    return published


async def expire(tx: Tx, tenant_id: str, item: ContentItem, *, at: datetime) -> ContentItem:
    """published → expired, emitting content.retired (reason expired)."""
    state = next_state(item.state, Action.EXPIRE)
    expired = await tx.items.set_state(tenant_id, item.id, state, retired_at=at)
    await tx.audit.record(
        tenant_id,
        item.id,
        action=Action.EXPIRE.value,
        from_state=item.state,
        to_state=state,
        actor=SYSTEM_ACTOR,
    )
    await tx.emit(
        CONTENT_RETIRED, retired_payload(tenant_id, expired, RetirementReason.EXPIRED, at)
    )
    return expired


async def archive(
    tx: Tx, tenant_id: str, item: ContentItem, *, actor: str, comment: str | None, at: datetime
) -> ContentItem:
    """→ archived; content.retired (reason archived) only if it was published, since
    only then did consumers learn of it."""
    state = next_state(item.state, Action.ARCHIVE)
    was_live = item.state in (ContentState.APPROVED, ContentState.PUBLISHED)
    stamps = {"retired_at": at} if was_live else {}
    archived = await tx.items.set_state(tenant_id, item.id, state, **stamps)
    await tx.audit.record(
        tenant_id,
        item.id,
        action=Action.ARCHIVE.value,
        from_state=item.state,
        to_state=state,
        actor=actor,
        comment=comment,
    )
    if item.state is ContentState.PUBLISHED:
        await tx.emit(
            CONTENT_RETIRED, retired_payload(tenant_id, archived, RetirementReason.ARCHIVED, at)
        )
    return archived
