"""Redeeming points for catalogue items, and the fulfilment workflow.

Atomicity: one transaction takes one unit of stock (`stock > 0`), deducts the
cost from the balance (`balance >= cost`), records the redemption and appends a
negative ledger entry. Both are conditional UPDATEs: a concurrent request
waits on the row lock and then re-evaluates its condition against the committed
row, so fifty requests for the last ten units give exactly ten redemptions, and
one balance can never pay twice. If either condition fails the whole
transaction rolls back. Locks are always taken item first, then account (the
consumer only ever locks accounts), so redemptions cannot deadlock.

States: requested -> fulfilled, or requested -> cancelled. Cancelling puts the
unit back in stock and refunds the cost with a positive ledger entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import asyncpg
from chorus_platform.problems import Conflict, NotFound

from chorus_rewards import metrics
from chorus_rewards.accrual import EntryKind, LedgerEntry
from chorus_rewards.repository import catalogue as repo
from chorus_rewards.repository.ledger import insert_entries


class RedemptionState(StrEnum):
    REQUESTED = "requested"
    FULFILLED = "fulfilled"
    CANCELLED = "cancelled"


class OutOfStock(Conflict):
    type_slug, title = "out-of-stock", "Out of stock"


class InsufficientPoints(Conflict):
    type_slug, title = "insufficient-points", "Not enough points"


class NotRequested(Conflict):
    type_slug, title = "redemption-not-requested", "Redemption already settled"


@dataclass(frozen=True)
class Redeemed:
    redemption: Any
    replayed: bool
    """True when the idempotency key matched an earlier request: nothing was charged again."""


class RedemptionService:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def redeem(
        self, tenant_id: str, advocate_id: str, item_id: int, idempotency_key: str | None
    ) -> Redeemed:
        async with self.pool.acquire() as conn, conn.transaction():
            cost = await repo.item_cost(conn, tenant_id, item_id)
            if cost is None:
                raise NotFound(f"no active catalogue item {item_id}")
            created = await repo.insert_redemption(
                conn, tenant_id, advocate_id, item_id, cost, idempotency_key
            )
            if created is None:
                assert idempotency_key is not None
                metrics.REDEMPTIONS.labels("replayed").inc()
                earlier = await repo.by_key(conn, tenant_id, advocate_id, idempotency_key)
                return Redeemed(earlier, replayed=True)
            if not await repo.take_one(conn, tenant_id, item_id, cost):
                metrics.REDEMPTIONS.labels("out_of_stock").inc()
                raise OutOfStock(f"item {item_id} is out of stock", item_id=item_id)
            if not await repo.spend(conn, tenant_id, advocate_id, cost):
                metrics.REDEMPTIONS.labels("insufficient_points").inc()
                raise InsufficientPoints(f"redeeming item {item_id} costs {cost} points", cost=cost)
            await insert_entries(conn, [_entry(created, tenant_id, EntryKind.REDEMPTION)])
        metrics.REDEMPTIONS.labels("requested").inc()
        return Redeemed(created, replayed=False)

    async def fulfil(self, tenant_id: str, redemption_id: int, by: str) -> Any:
        async with self.pool.acquire() as conn, conn.transaction():
            done = await repo.transition(
                conn, tenant_id, redemption_id, RedemptionState.FULFILLED, by
            )
            if done is None:
                raise await self._why_not(conn, tenant_id, redemption_id)
        return done

    async def cancel(self, tenant_id: str, redemption_id: int, by: str) -> Any:
        async with self.pool.acquire() as conn, conn.transaction():
            done = await repo.transition(
                conn, tenant_id, redemption_id, RedemptionState.CANCELLED, by
            )
            if done is None:
                raise await self._why_not(conn, tenant_id, redemption_id)
            await repo.give_back(conn, tenant_id, done["item_id"])  # item, then account
            await repo.refund(conn, tenant_id, done["advocate_id"], done["cost"])
            await insert_entries(conn, [_entry(done, tenant_id, EntryKind.REFUND)])
        return done

    @staticmethod
    async def _why_not(conn: asyncpg.Connection, tenant_id: str, redemption_id: int) -> Exception:
        found = await repo.get(conn, tenant_id, redemption_id)
        if found is None:
            return NotFound(f"no redemption {redemption_id}")
        return NotRequested(
            f"redemption {redemption_id} is already {found['state']}", state=found["state"]
        )


def _entry(redemption: Any, tenant_id: str, kind: EntryKind) -> LedgerEntry:
    cost: int = redemption["cost"]
    return LedgerEntry(
        tenant_id=tenant_id,
        advocate_id=redemption["advocate_id"],
        kind=kind,
        points=-cost if kind is EntryKind.REDEMPTION else cost,
        occurred_at=datetime.now(UTC),
        breakdown={"item": {"id": redemption["item_id"], "cost": cost}},
        redemption_id=redemption["id"],
    )
