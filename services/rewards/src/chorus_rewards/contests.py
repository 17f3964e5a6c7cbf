"""Contests: rank a campaign hashtag's activity in a window by a metric, then freeze.

Results come from the ledger, never from Redis: the earning entries carrying
the hashtag whose event time is in [starts_at, ends_at), summed per advocate,
ranked by value, then the earliest time the value was reached (exact), then
advocate id. They are frozen `contest_freeze_grace` seconds after the end (so
late engagement for the window still counts), under the tenant's exclusive
lock, so no batch is half-committed: the highest ledger id at that moment is
recorded, and anyone can recompute the same results from the entries up to
that id (`audit`). The results document is canonical JSON and its sha256 is
stored with it.

Freezing is done by the scheduler (`scheduler.py`); several instances may run:
each contest is claimed with FOR UPDATE SKIP LOCKED and frozen at most once.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg
from chorus_platform.problems import NotFound, UnprocessableEntity

from chorus_rewards.badges import TOP_TEN, grant_badges
from chorus_rewards.boards import Metric, normalize_hashtag
from chorus_rewards.repository import contests as repo
from chorus_rewards.repository.locks import lock_tenant_exclusive

log = logging.getLogger(__name__)
TOP_TEN_SIZE = 10


def rank(rows: Sequence[Any]) -> list[dict[str, Any]]:
    """Order per-advocate totals: value desc, reached asc, advocate id asc."""
    ordered = sorted(rows, key=lambda r: (-r["value"], r["reached"], r["advocate_id"]))
    return [
        {
            "rank": i + 1,
            "advocate_id": r["advocate_id"],
            "value": r["value"],
            "reached_at": r["reached"].isoformat(),
        }
        for i, r in enumerate(ordered)
    ]


def results_document(contest: Any, high_id: int, standings: list[dict[str, Any]]) -> dict[str, Any]:
    by_rank = {s["rank"]: s["advocate_id"] for s in standings}
    prizes = [p | {"advocate_id": by_rank.get(p["rank"])} for p in contest["prizes"]]
    return {
        "contest_id": contest["id"],
        "tenant_id": contest["tenant_id"],
        "hashtag": contest["hashtag"],
        "metric": contest["metric"],
        "starts_at": contest["starts_at"].isoformat(),
        "ends_at": contest["ends_at"].isoformat(),
        "ledger_high_id": high_id,
        "standings": standings,
        "prizes": prizes,
    }


def digest(document: dict[str, Any]) -> str:
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


class ContestService:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def create(
        self,
        tenant_id: str,
        name: str,
        hashtag: str,
        metric: Metric,
        starts_at: datetime,
        ends_at: datetime,
        prizes: list[dict[str, Any]],
        created_by: str,
    ) -> Any:
        if ends_at <= starts_at:
            raise UnprocessableEntity("ends_at must be after starts_at", field="ends_at")
        fields = {
            "name": name,
            "hashtag": normalize_hashtag(hashtag),
            "metric": metric.value,
            "starts_at": starts_at,
            "ends_at": ends_at,
            "prizes": prizes,
            "created_by": created_by,
        }
        return await repo.create_contest(self.pool, tenant_id, fields)

    async def get(self, tenant_id: str, contest_id: int) -> Any:
        found = await repo.contest(self.pool, tenant_id, contest_id)
        if found is None:
            raise NotFound(f"no contest {contest_id}")
        return found

    async def live_standings(self, tenant_id: str, contest_id: int) -> list[dict[str, Any]]:
        """Frozen results once frozen; until then, computed from the ledger now."""
        c = await self.get(tenant_id, contest_id)
        if c["state"] == "frozen":
            standings: list[dict[str, Any]] = c["results"]["standings"]
            return standings
        rows = await repo.contest_totals(
            self.pool, tenant_id, c["hashtag"], c["metric"], c["starts_at"], c["ends_at"], None
        )
        return rank(rows)

    async def audit(self, tenant_id: str, contest_id: int) -> dict[str, Any]:
        """Recompute frozen results from the ledger entries they were based on."""
        c = await self.get(tenant_id, contest_id)
        if c["state"] != "frozen":
            raise UnprocessableEntity("the contest is not frozen yet")
        rows = await repo.contest_totals(
            self.pool,
            tenant_id,
            c["hashtag"],
            c["metric"],
            c["starts_at"],
            c["ends_at"],
            c["ledger_high_id"],
        )
        recomputed = digest(results_document(c, c["ledger_high_id"], rank(rows)))
        return {
            "results_sha256": c["results_sha256"],
            "recomputed_sha256": recomputed,
            "matches": recomputed == c["results_sha256"] == digest(c["results"]),
        }

    async def freeze_due(self, grace_seconds: float, limit: int = 100) -> int:
        """Freeze contests whose end (plus grace) passed, one per transaction."""
        frozen = 0
        for _ in range(limit):
            async with self.pool.acquire() as conn, conn.transaction():
                claimed = await repo.claim_due_contests(conn, grace_seconds, 1)
                if not claimed:
                    break
                await self._freeze(conn, claimed[0])
            frozen += 1
        return frozen

    async def _freeze(self, conn: asyncpg.Connection, c: Any) -> None:
        tenant_id = c["tenant_id"]
        await lock_tenant_exclusive(conn, tenant_id)  # no batch half-committed below
        high_id = await repo.ledger_high_id(conn, tenant_id)
        rows = await repo.contest_totals(
            conn, tenant_id, c["hashtag"], c["metric"], c["starts_at"], c["ends_at"], high_id
        )
        document = results_document(c, high_id, rank(rows))
        await repo.save_results(conn, c["id"], high_id, document, digest(document))
        top = document["standings"][:TOP_TEN_SIZE]
        await grant_badges(
            conn, [(tenant_id, s["advocate_id"], TOP_TEN, f"contest:{c['id']}") for s in top]
        )
        log.info("contest %s of %s frozen with %d ranked", c["id"], tenant_id, len(rows))
