"""Use cases of content items: write, read, list (the workflow is in `transitions`).

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
from chorus_platform.problems import NotFound
from pydantic import ValidationError

from chorus_content.categories.service import category_exists
from chorus_content.db import Tx, reading, transaction
from chorus_content.items.cursor import InvalidCursor, decode_cursor, encode_cursor
from chorus_content.items.repository import Audience, Cursor, ItemFilters
from chorus_content.items.schemas import (
    AuditEntryOut,
    ContentCreate,
    ContentFields,
    ContentItem,
    ContentPatch,
    ItemPage,
)
from chorus_content.items.workflow import EDITABLE
from chorus_content.problems import IllegalTransition, InvalidFields

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
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

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
            raise not_found(item_id)
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
            item = await locked_item(tx, identity, item_id)
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

    async def audit_trail(self, identity: Identity, item_id: str) -> list[AuditEntryOut]:
        async with reading(self.pool) as tx:
            if await tx.items.get(identity.tenant_id, item_id) is None:
                raise not_found(item_id)
            return await tx.audit.trail(identity.tenant_id, item_id)

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


def not_found(item_id: str) -> NotFound:
    # The same answer whether the item is another tenant's or does not exist at all.
    return NotFound(f"no content item {item_id!r}")


async def locked_item(tx: Tx, identity: Identity, item_id: str) -> ContentItem:
    """The caller's tenant's item, locked for the rest of the transaction (404 if none)."""
    item = await tx.items.get(identity.tenant_id, item_id, for_update=True)
    if item is None:
        raise not_found(item_id)
    return item
