"""Use cases of the approval workflow: submit, approve, reject, reopen, archive.

Each is one transaction: the item row is locked (`FOR UPDATE`), the state machine
decides, and the new state, its audit entry and any event commit together.
"""

from __future__ import annotations

import asyncpg
from chorus_platform.identity import Identity
from chorus_platform.problems import Conflict, UnprocessableEntity
from pydantic import ValidationError

from chorus_content.db import Tx, transaction
from chorus_content.guidelines.service import MatcherCache
from chorus_content.items import lifecycle
from chorus_content.items.events import approved_payload
from chorus_content.items.review import review
from chorus_content.items.schemas import ContentItem
from chorus_content.items.service import locked_item
from chorus_content.items.workflow import (
    Action,
    ContentState,
    is_four_eyes_violation,
    next_state,
)
from chorus_content.items.workflow import IllegalTransition as _Illegal
from chorus_content.problems import FourEyesViolation, GuidelineViolations, IllegalTransition


class WorkflowService:
    def __init__(self, pool: asyncpg.Pool, matchers: MatcherCache) -> None:
        self.pool = pool
        self.matchers = matchers

    async def submit(self, identity: Identity, item_id: str, comment: str | None) -> ContentItem:
        async with transaction(self.pool) as tx:
            item = await locked_item(tx, identity, item_id)
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
            item = await locked_item(tx, identity, item_id)
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
            item = await locked_item(tx, identity, item_id)
            self._next(item, Action.ARCHIVE)
            return await lifecycle.archive(
                tx,
                identity.tenant_id,
                item,
                actor=identity.principal_id,
                comment=comment,
                at=await tx.now(),
            )

    async def _simple(
        self, identity: Identity, item_id: str, action: Action, comment: str | None
    ) -> ContentItem:
        async with transaction(self.pool) as tx:
            item = await locked_item(tx, identity, item_id)
            return await self._move(tx, identity, item, action, comment)

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
