"""`POST /v1/metrics/engagement`: network-reported engagement in batches (207 per item)."""

from __future__ import annotations

from typing import Annotated

from chorus_platform.identity import Identity
from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from chorus_metrics.deps import Pool, Settings, admin_or_scope
from chorus_metrics.reported.schemas import BatchResult, ReportedBatch
from chorus_metrics.reported.service import accept_batch

router = APIRouter(prefix="/v1/metrics", tags=["reported engagement"])
Writer = Annotated[Identity, Depends(admin_or_scope("metrics:write"))]


@router.post("/engagement", status_code=207, response_model=BatchResult)
async def post_engagement(
    body: ReportedBatch, identity: Writer, pool: Pool, settings: Settings
) -> JSONResponse:
    """Accept observations; each item is `accepted`, `duplicate` or `invalid` (with errors).

    Idempotent per (source, source_event_id): replaying a batch counts nothing twice.
    """
    async with pool.acquire() as conn, conn.transaction():
        result = await accept_batch(
            conn, identity.tenant_id, body.items, limit=settings.reported_batch_max
        )
    return JSONResponse(result.model_dump(mode="json"), status_code=207)
