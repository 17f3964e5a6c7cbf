"""Contests (ranked by the ledger, frozen at the end) and verifiable raffles."""

from __future__ import annotations

from typing import Annotated, Any

from chorus_platform.identity import CurrentIdentity
from fastapi import APIRouter, Query, status

from chorus_rewards import raffle
from chorus_rewards.api.deps import Admin, Runtime
from chorus_rewards.api.params import RowId
from chorus_rewards.repository import contests as repo
from chorus_rewards.schemas import (
    AuditOut,
    ContestOut,
    ContestStanding,
    NewContest,
    NewRaffle,
    RaffleOut,
    VerifyOut,
    VerifyRaffle,
)

router = APIRouter(prefix="/v1/rewards", tags=["rewards: contests and raffles"])


@router.post("/contests", response_model=ContestOut, status_code=status.HTTP_201_CREATED)
async def create_contest(body: NewContest, identity: Admin, rt: Runtime) -> ContestOut:
    row = await rt.contests.create(
        identity.tenant_id,
        body.name,
        body.hashtag,
        body.metric,
        body.starts_at,
        body.ends_at,
        [p.model_dump() for p in body.prizes],
        identity.principal_id,
    )
    return ContestOut(**dict(row))


@router.get("/contests", response_model=list[ContestOut])
async def list_contests(
    identity: CurrentIdentity, rt: Runtime, limit: Annotated[int, Query(ge=1, le=200)] = 50
) -> list[ContestOut]:
    rows = await repo.contests(rt.ctx.pool, identity.tenant_id, limit)
    return [ContestOut(**dict(r)) for r in rows]


@router.get("/contests/{contest_id}", response_model=ContestOut)
async def get_contest(contest_id: RowId, identity: CurrentIdentity, rt: Runtime) -> ContestOut:
    return ContestOut(**dict(await rt.contests.get(identity.tenant_id, contest_id)))


@router.get("/contests/{contest_id}/standings", response_model=list[ContestStanding])
async def contest_standings(
    contest_id: RowId,
    identity: CurrentIdentity,
    rt: Runtime,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[ContestStanding]:
    """Live standings from the ledger while running; the frozen results afterwards."""
    rows = await rt.contests.live_standings(identity.tenant_id, contest_id)
    return [ContestStanding(**r) for r in rows[:limit]]


@router.get("/contests/{contest_id}/audit", response_model=AuditOut)
async def audit_contest(contest_id: RowId, identity: CurrentIdentity, rt: Runtime) -> AuditOut:
    """Recompute the frozen results from the ledger and compare their sha256."""
    return AuditOut(**await rt.contests.audit(identity.tenant_id, contest_id))


def _raffle_out(row: Any) -> RaffleOut:
    drawn = row["state"] == "drawn"
    return RaffleOut(
        **{k: v for k, v in dict(row).items() if k not in {"seed", "entries", "winners"}},
        algorithm=raffle.ALGORITHM,
        seed=row["seed"] if drawn else None,
        entries=[tuple(e) for e in row["entries"]] if drawn else None,
        winners=row["winners"] if drawn else None,
    )


@router.post("/raffles", response_model=RaffleOut, status_code=status.HTTP_201_CREATED)
async def open_raffle(body: NewRaffle, identity: Admin, rt: Runtime) -> RaffleOut:
    """Open a raffle; the response publishes the seed's sha256 (the seed stays secret)."""
    row = await rt.raffles.open(
        identity.tenant_id,
        body.name,
        body.hashtag,
        body.starts_at,
        body.ends_at,
        body.winners,
        identity.principal_id,
    )
    return _raffle_out(row)


@router.get("/raffles/{raffle_id}", response_model=RaffleOut)
async def get_raffle(raffle_id: RowId, identity: CurrentIdentity, rt: Runtime) -> RaffleOut:
    return _raffle_out(await rt.raffles.get(identity.tenant_id, raffle_id))


@router.post("/raffles/{raffle_id}/draw", response_model=RaffleOut)
async def draw_raffle(raffle_id: RowId, identity: Admin, rt: Runtime) -> RaffleOut:
    """Draw now (409 while open); drawing again returns the same result."""
    return _raffle_out(await rt.raffles.draw(identity.tenant_id, raffle_id))


@router.post("/raffles/verify", response_model=VerifyOut)
async def verify_raffle(body: VerifyRaffle, identity: CurrentIdentity) -> VerifyOut:
    """Recompute winners from a revealed seed and the published entries (pure function)."""
    del identity  # any authenticated caller; the computation uses nothing of the tenant
    found = raffle.verify(body.seed, body.entries, body.winners, body.seed_sha256)
    return VerifyOut(
        algorithm=raffle.ALGORITHM,
        winners=found.winners,
        seed_matches_hash=found.seed_matches_hash,
        entries_sha256=found.entries_sha256,
    )
