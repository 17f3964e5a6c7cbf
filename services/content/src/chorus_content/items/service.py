"""Use cases of content items: write, read, list, and drive the approval workflow.

No HTTP, no SQL: each use case is one transaction (`db.transaction`) over the
repositories, raising problem errors the API turns into problem+json.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg
from chorus_platform.identity import Identity, Role
from chorus_platform.problems import Conflict, NotFound, UnprocessableEntity
from pydantic import ValidationError

from chorus_content.categories.service import category_exists
from chorus_content.db import Tx, reading, transaction
from chorus_content.guidelines.service import MatcherCache
from chorus_content.items import lifecycle
from chorus_content.items.cursor import InvalidCursor, decode_cursor, encode_cursor
from chorus_content.items.events import approved_payload
from chorus_content.items.repository import Audience, Cursor, ItemFilters
from chorus_content.items.review import review
from chorus_content.items.schemas import (
    AuditEntryOut,
    ContentCreate,
    ContentFields,
    ContentItem,
    ContentPatch,
    ItemPage,
)
from chorus_content.items.workflow import (
    EDITABLE,
    Action,
    ContentState,
    is_four_eyes_violation,
    next_state,
)
from chorus_content.items.workflow import IllegalTransition as _Illegal
from chorus_content.problems import (
    FourEyesViolation,
    GuidelineViolations,
    IllegalTransition,
    InvalidFields,
)

STAFF = frozenset({Role.EDITOR, Role.APPROVER, Role.ADMIN})


def new_item_id() -> str:
    """32 hex digits, time-ordered (48-bit milliseconds, then 80 random bits)."""
    return f"{time.time_ns() // 1_000_000:012x}{os.urandom(10).hex()}"


def audience_of(identity: Identity) -> Audience | None:
    """None for staff (they see every item); advocates see live items targeted at them."""
    if identity.has_any_role(STAFF):
        return None
    return Audience(team_ids=sorted(identity.team_ids))


@dataclass(frozen=True)
class ListQuery:
    filters: ItemFilters
    cursor: str | None
    limit: int


class ItemService:
    def __init__(self, pool: asyncpg.Pool, matchers: MatcherCache) -> None:
        self.pool = pool
        self.matchers = matchers

    async def create(self, identity: Identity, fields: ContentCreate) -> ContentItem:
        async with transaction(self.pool) as tx:
            await self._check_fields(tx, identity.tenant_id, fields, category_changed=True)
            item = await tx.items.insert(
                identity.tenant_id, new_item_id(), fields, identity.principal_id
            )
            await tx.audit.record(
                identity.tenant_id,
                item.id,
                action="create",
                from_state=None,
                to_state=item.state,
                actor=identity.principal_id,
            )
            return item

    async def get(self, identity: Identity, item_id: str) -> ContentItem:
        async with reading(self.pool) as tx:
            item = await tx.items.get(identity.tenant_id, item_id, audience=audience_of(identity))
        if item is None:
            raise _not_found(item_id)
        return item

    async def page(self, identity: Identity, query: ListQuery) -> ItemPage:
        try:
            after = decode_cursor(query.cursor) if query.cursor else None
        except InvalidCursor as exc:
            raise InvalidFields.field("cursor", str(exc), where="query") from None
        async with reading(self.pool) as tx:
            # One extra row tells whether another page exists without a count query.
            rows = await tx.items.page(
                identity.tenant_id,
                query.filters,
                audience=audience_of(identity),
                after=after,
                limit=query.limit + 1,
            )
        items = rows[: query.limit]
        more = len(rows) > query.limit
        last = items[-1] if items else None
        next_cursor = (
            encode_cursor(Cursor(last.created_at, last.id)) if more and last is not None else None
        )
        return ItemPage(items=items, next_cursor=next_cursor)

    async def update(self, identity: Identity, item_id: str, patch: ContentPatch) -> ContentItem:
        async with transaction(self.pool) as tx:
            item = await self._locked(tx, identity, item_id)
            if item.state not in EDITABLE:
                raise IllegalTransition(item.state, "update")
            if not patch.changes():
                return item
            current = item.model_dump(include=set(ContentFields.model_fields))
            try:
                merged = ContentFields.model_validate({**current, **patch.changes()})
            except ValidationError as exc:
                raise InvalidFields.from_validation(exc) from None
            await self._check_fields(
                tx, identity.tenant_id, merged, category_changed=merged.category != item.category
            )
            return await tx.items.update_content(identity.tenant_id, item_id, merged)

    async def submit(self, identity: Identity, item_id: str, comment: str | None) -> ContentItem:
        async with transaction(self.pool) as tx:
            item = await self._locked(tx, identity, item_id)
            self._next(item, Action.SUBMIT)  # 409 before any guideline work
            matcher = await self.matchers.matcher(tx, identity.tenant_id)
            violations = review(matcher, item)
            if any(v["severity"] == "block" for v in violations):
                raise GuidelineViolations(violations)
            # The policy's disclosure for the category travels with the item from here on.
            disclosure = item.required_disclosure or matcher.disclosure_for(item.category)
            return await self._move(
                tx, identity, item, Action.SUBMIT, comment, required_disclosure=disclosure
            )

    async def approve(self, identity: Identity, item_id: str, comment: str | None) -> ContentItem:
        async with transaction(self.pool) as tx:
            item = await self._locked(tx, identity, item_id)
            self._next(item, Action.APPROVE)
            if is_four_eyes_violation(item.created_by, identity.principal_id, Action.APPROVE):
                raise FourEyesViolation()
            now = await tx.now()
            if item.expires_at is not None and item.expires_at <= now:
                raise Conflict(
                    "expires_at has passed; reject the item so its author can change it",
                    field="expires_at",
                )
            publish_at = item.publish_at or now
            try:  # fail the approval now rather than the scheduler later
                approved_payload(
                    identity.tenant_id,
                    item,
                    publish_at=publish_at,
                    approved_by=identity.principal_id,
                    approved_at=now,
                )
            except ValidationError as exc:
                raise UnprocessableEntity(
                    f"the item cannot be represented as a content.approved event: {exc}"
                ) from None
            approved = await self._move(
                tx,
                identity,
                item,
                Action.APPROVE,
                comment,
                approved_by=identity.principal_id,
                approved_at=now,
            )
            if publish_at <= now:
                return await lifecycle.publish(tx, identity.tenant_id, approved, at=now)
            return approved

    async def reject(self, identity: Identity, item_id: str, comment: str) -> ContentItem:
        return await self._simple(identity, item_id, Action.REJECT, comment)

    async def reopen(self, identity: Identity, item_id: str, comment: str | None) -> ContentItem:
        return await self._simple(identity, item_id, Action.REOPEN, comment)

    async def archive(self, identity: Identity, item_id: str, comment: str | None) -> ContentItem:
        async with transaction(self.pool) as tx:
            item = await self._locked(tx, identity, item_id)
            self._next(item, Action.ARCHIVE)
            return await lifecycle.archive(
                tx,
                identity.tenant_id,
                item,
                actor=identity.principal_id,
                comment=comment,
                at=await tx.now(),
            )

    async def audit_trail(self, identity: Identity, item_id: str) -> list[AuditEntryOut]:
        async with reading(self.pool) as tx:
            if await tx.items.get(identity.tenant_id, item_id) is None:
                raise _not_found(item_id)
            return await tx.audit.trail(identity.tenant_id, item_id)

    async def _simple(
        self, identity: Identity, item_id: str, action: Action, comment: str | None
    ) -> ContentItem:
        async with transaction(self.pool) as tx:
            item = await self._locked(tx, identity, item_id)
            return await self._move(tx, identity, item, action, comment)

    async def _locked(self, tx: Tx, identity: Identity, item_id: str) -> ContentItem:
        item = await tx.items.get(identity.tenant_id, item_id, for_update=True)
        if item is None:
            raise _not_found(item_id)
        return item

    @staticmethod
    def _next(item: ContentItem, action: Action) -> ContentState:
        try:
            return next_state(item.state, action)
        except _Illegal as exc:
            raise IllegalTransition(exc.state, exc.action) from None

    async def _move(
        self,
        tx: Tx,
        identity: Identity,
        item: ContentItem,
        action: Action,
        comment: str | None,
        **stamps: object,
    ) -> ContentItem:
        state = self._next(item, action)
        moved = await tx.items.set_state(identity.tenant_id, item.id, state, **stamps)
        await tx.audit.record(
            identity.tenant_id,
            item.id,
            action=action.value,
            from_state=item.state,
            to_state=state,
            actor=identity.principal_id,
            comment=comment,
        )
        return moved

    @staticmethod
    async def _check_fields(
        tx: Tx, tenant_id: str, fields: ContentFields, *, category_changed: bool
    ) -> None:
        if category_changed and not await category_exists(tx, tenant_id, fields.category):
            raise InvalidFields.field(
                "category", f"unknown category {fields.category!r}", code="unknown_category"
            )
        if fields.expires_at is not None and fields.expires_at <= datetime.now(UTC):
            raise InvalidFields.field("expires_at", "must be in the future", code="in_the_past")


def _not_found(item_id: str) -> NotFound:
    # The same answer whether the item is another tenant's or does not exist at all.
    return NotFound(f"no content item {item_id!r}")
