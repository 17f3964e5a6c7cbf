"""`GET /v1/metrics/kpis/...`: JSON by default, `?format=csv` for a spreadsheet."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from enum import StrEnum
from typing import Annotated

import asyncpg
from chorus_events.contracts import Network
from chorus_platform.identity import Identity
from chorus_platform.problems import UnprocessableEntity
from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from chorus_metrics.deps import ReadConn, Settings, admin_or_scope
from chorus_metrics.kpis import repository, service
from chorus_metrics.kpis.export import to_csv
from chorus_metrics.kpis.query import Bucket, KpiQuery
from chorus_metrics.kpis.schemas import KpiReport
from chorus_metrics.text.hashtags import normalise
from chorus_metrics.time_zones import is_time_zone

router = APIRouter(prefix="/v1/metrics/kpis", tags=["KPIs"])
Reader = Annotated[Identity, Depends(admin_or_scope("metrics:read"))]


class Format(StrEnum):
    JSON = "json"
    CSV = "csv"


class RankBy(StrEnum):
    SHARES = "shares"
    ENGAGEMENT = "engagement"


class Group(StrEnum):
    ADVOCATE = "advocate"
    TEAM = "team"


async def kpi_query(
    identity: Reader,
    conn: ReadConn,
    settings: Settings,
    date_from: Annotated[date | None, Query(alias="from")] = None,
    date_to: Annotated[date | None, Query(alias="to")] = None,
    team: Annotated[str | None, Query(max_length=64)] = None,
    advocate: Annotated[str | None, Query(max_length=64)] = None,
    campaign: Annotated[str | None, Query(max_length=140, description="hashtag")] = None,
    network: Network | None = None,
    bucket: Bucket = Bucket.NONE,
    tz: Annotated[str | None, Query(max_length=64, description="IANA zone")] = None,
) -> KpiQuery:
    zone = tz or await repository.program_time_zone(conn, identity.tenant_id)
    zone = zone or settings.default_time_zone
    if not is_time_zone(zone):
        raise UnprocessableEntity(f"unknown time zone {zone!r}", field="tz")
    if date_from and date_to and date_to < date_from:
        raise UnprocessableEntity("'to' is before 'from'", field="to")
    return KpiQuery(
        tenant_id=identity.tenant_id,
        time_zone=zone,
        date_from=date_from,
        date_to=date_to,
        team=team,
        advocate=advocate,
        campaign=normalise(campaign) if campaign else None,
        network=network.value if network else None,
        bucket=bucket,
    )


Kpi = Annotated[KpiQuery, Depends(kpi_query)]
FormatParam = Annotated[Format, Query(alias="format")]


def _respond(report: KpiReport, fmt: Format) -> Response | KpiReport:
    if fmt is Format.CSV:
        return Response(
            to_csv(report),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{report.kpi}.csv"'},
        )
    return report


@router.get("/top-contributors", response_model=KpiReport)
async def top_contributors(
    q: Kpi,
    conn: ReadConn,
    settings: Settings,
    by: Annotated[RankBy, Query(description="rank by shares or engagement driven")] = RankBy.SHARES,
    group: Group = Group.ADVOCATE,
    limit: Annotated[int, Query(ge=1)] = 10,
    fmt: FormatParam = Format.JSON,
) -> Response | KpiReport:
    if limit > settings.kpi_top_limit_max:
        raise UnprocessableEntity(f"limit is at most {settings.kpi_top_limit_max}", field="limit")
    report = await service.top_contributors(
        conn, q, by_team=group is Group.TEAM, order=by.value, limit=limit
    )
    return _respond(report, fmt)


def _simple(
    path: str, use_case: Callable[[asyncpg.Connection, KpiQuery], Awaitable[KpiReport]], doc: str
) -> None:
    async def endpoint(
        q: Kpi, conn: ReadConn, fmt: FormatParam = Format.JSON
    ) -> Response | KpiReport:
        return _respond(await use_case(conn, q), fmt)

    endpoint.__doc__ = doc
    endpoint.__name__ = path.replace("-", "_")
    router.add_api_route(f"/{path}", endpoint, methods=["GET"], response_model=KpiReport)


_simple("reach", service.reach, "Organic reach: reported impressions, estimated otherwise.")
_simple("engagement", service.engagement_per_network, "Valid engagement per network.")
_simple("traffic", service.traffic, "Valid clicks to the company's links, and rejections.")
_simple("sentiment", service.sentiment, "Sentiment of reported comments (English scored).")
_simple("hashtags", service.hashtag_mentions, "Hashtag mentions in captions and comments.")
_simple("adoption", service.adoption, "Advocates who shared ÷ enrolled advocates.")
_simple("share-rate", service.share_rate, "Items shared ÷ items available.")
