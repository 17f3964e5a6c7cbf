"""A local fake of LinkedIn's documented member post analytics endpoint.

It enforces what the documentation requires (bearer token, `LinkedIn-Version`,
Rest.li 2.0 header, `q=entity`, an entity of the form `(share:<encoded urn>)`,
a known `queryType`, `aggregation=TOTAL`) and answers with the documented shape.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

QUERY_TYPES = {"IMPRESSION", "MEMBERS_REACHED", "RESHARE", "REACTION", "COMMENT"}
_ENTITY = re.compile(r"^\((share|ugcPost):(urn%3Ali%3A(?:share|ugcPost)%3A\d+)\)$")


def fake_linkedin(token: str, totals: dict[str, dict[str, int]]) -> FastAPI:
    """`totals[urn][queryType]` is what the fake reports; tests change it between polls."""
    app = FastAPI()
    app.state.calls = 0

    @app.get("/rest/memberCreatorPostAnalytics")
    async def analytics(request: Request) -> JSONResponse:
        app.state.calls += 1
        if request.headers.get("authorization") != f"Bearer {token}":
            return JSONResponse({"status": 401, "message": "Invalid access token"}, 401)
        if not re.fullmatch(r"\d{6}", request.headers.get("linkedin-version", "")):
            return JSONResponse({"status": 426, "message": "missing LinkedIn-Version"}, 426)
        if request.headers.get("x-restli-protocol-version") != "2.0.0":
            return JSONResponse({"status": 400, "message": "Rest.li 2.0.0 required"}, 400)
        raw = dict(part.split("=", 1) for part in request.url.query.split("&") if "=" in part)
        match = _ENTITY.match(raw.get("entity", ""))
        query_type = raw.get("queryType")
        if raw.get("q") != "entity" or not match or query_type not in QUERY_TYPES:
            return JSONResponse({"status": 400, "message": "bad finder parameters"}, 400)
        if raw.get("aggregation") != "TOTAL":
            return JSONResponse({"status": 400, "message": "aggregation must be TOTAL"}, 400)
        urn = unquote(match.group(2))
        count = totals.get(urn, {}).get(query_type, 0)
        element: dict[str, Any] = {
            "count": count,
            "metricType": {
                "com.linkedin.adsexternalapi.memberanalytics.v1.CreatorPostAnalyticsMetricTypeV1": (
                    query_type
                )
            },
            "targetEntity": {match.group(1): urn},
        }
        return JSONResponse(
            {"paging": {"start": 0, "count": 10, "links": []}, "elements": [element]}
        )

    return app
