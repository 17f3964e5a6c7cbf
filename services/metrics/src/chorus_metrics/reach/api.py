"""`POST /v1/metrics/reach-calculator`: estimated reach and paid-media value, with the formula."""

from __future__ import annotations

from dataclasses import asdict

from chorus_events.contracts import Measurement
from chorus_platform.identity import CurrentIdentity
from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from chorus_metrics.reach.calculator import FORMULA, ReachInputs, estimate

router = APIRouter(prefix="/v1/metrics", tags=["reach calculator"])


class ReachRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    head_count: int = Field(ge=1, le=10_000_000)
    participation_rate: float = Field(ge=0, le=1)
    average_network_size: float = Field(ge=0, le=100_000_000)
    shares_per_week: float = Field(ge=0, le=1000)
    engagement_rate: float = Field(ge=0, le=1)
    cpm: float = Field(ge=0, le=100_000)
    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")
    visibility_rate: float = Field(default=1.0, ge=0, le=1)


class ReachResponse(BaseModel):
    inputs: ReachRequest
    figures: dict[str, float]
    formula: dict[str, str]
    measurement: Measurement = Measurement.ESTIMATED
    currency: str


@router.post("/reach-calculator", response_model=ReachResponse)
async def reach_calculator(body: ReachRequest, identity: CurrentIdentity) -> ReachResponse:
    """Any signed-in caller may estimate; nothing is stored."""
    del identity
    inputs = ReachInputs(**body.model_dump(exclude={"currency"}))
    figures = {k: round(v, 2) for k, v in asdict(estimate(inputs)).items()}
    return ReachResponse(inputs=body, figures=figures, formula=FORMULA, currency=body.currency)
