"""Raffles: open with a published seed hash, draw once after the end, verifiable by anyone.

The draw (by an admin or the scheduler, whichever comes first; the raffle row
is locked and the state checked, so it happens once) snapshots the entries
under the tenant's exclusive lock: each advocate's valid shares with the
campaign hashtag posted in the window. It stores the entries, their digest,
the winners, and reveals the seed. See `raffle` for the algorithm.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

import asyncpg
from chorus_platform.problems import Conflict, NotFound, UnprocessableEntity

from chorus_rewards import raffle
from chorus_rewards.boards import normalize_hashtag
from chorus_rewards.repository import contests as repo
from chorus_rewards.repository.locks import lock_tenant_exclusive


class RaffleService:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def open(
        self,
        tenant_id: str,
        name: str,
        hashtag: str,
        starts_at: datetime,
        ends_at: datetime,
        winners: int,
        created_by: str,
    ) -> Any:
        if ends_at <= starts_at:
            raise UnprocessableEntity("ends_at must be after starts_at", field="ends_at")
        seed = secrets.token_hex(32)
        fields = {
            "name": name,
            "hashtag": normalize_hashtag(hashtag),
            "starts_at": starts_at,
            "ends_at": ends_at,
            "winners_count": winners,
            "seed_sha256": raffle.seed_hash(seed),
            "seed": seed,
            "created_by": created_by,
        }
        return await repo.create_raffle(self.pool, tenant_id, fields)

    async def get(self, tenant_id: str, raffle_id: int) -> Any:
        found = await repo.raffle(self.pool, tenant_id, raffle_id)
        if found is None:
            raise NotFound(f"no raffle {raffle_id}")
        return found

    async def draw(self, tenant_id: str, raffle_id: int, now: datetime | None = None) -> Any:
        now = now or datetime.now(UTC)
        async with self.pool.acquire() as conn, conn.transaction():
            r = await repo.lock_raffle(conn, tenant_id, raffle_id)
            if r is None:
                raise NotFound(f"no raffle {raffle_id}")
            if r["state"] == "drawn":
                return r
            if now < r["ends_at"]:
                raise Conflict("the raffle is still open", ends_at=r["ends_at"].isoformat())
            return await self._draw(conn, r)

    async def draw_due(self, grace_seconds: float, limit: int = 100) -> int:
        drawn = 0
        for _ in range(limit):
            async with self.pool.acquire() as conn, conn.transaction():
                claimed = await repo.claim_due_raffles(conn, grace_seconds, 1)
                if not claimed:
                    break
                await self._draw(conn, claimed[0])
            drawn += 1
        return drawn

    async def _draw(self, conn: asyncpg.Connection, r: Any) -> Any:
        await lock_tenant_exclusive(conn, r["tenant_id"])
        weights = await repo.raffle_weights(
            conn, r["tenant_id"], r["hashtag"], r["starts_at"], r["ends_at"]
        )
        entries = raffle.normalise(weights)
        winners = raffle.draw(r["seed"], entries, r["winners_count"])
        return await repo.save_draw(
            conn, r["id"], [list(e) for e in entries], raffle.entries_digest(entries), winners
        )
