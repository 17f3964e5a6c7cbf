"""`/v1/openapi.json` (the merged document) and `/v1/docs` (Swagger UI and ReDoc served
from the assets shipped in the `fastapi-offline` package: no CDN)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import fastapi_offline
from fastapi import APIRouter
from fastapi.responses import HTMLResponse, JSONResponse

from chorus_gateway.deps import Runtime

router = APIRouter(tags=["documentation"])
ASSETS = Path(fastapi_offline.__file__).parent / "static"
DOCS_ASSETS = "/v1/docs/assets"

_SWAGGER = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>Chorus API</title>
<link rel="stylesheet" href="{DOCS_ASSETS}/swagger-ui.css">
<link rel="icon" href="{DOCS_ASSETS}/favicon.png"></head>
<body><div id="ui"></div>
<script src="{DOCS_ASSETS}/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({{url: "/v1/openapi.json", dom_id: "#ui", deepLinking: true}});</script>
</body></html>"""

_REDOC = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>Chorus API reference</title>
<link rel="icon" href="{DOCS_ASSETS}/favicon.png"></head>
<body><redoc spec-url="/v1/openapi.json"></redoc>
<script src="{DOCS_ASSETS}/redoc.standalone.js"></script></body></html>"""


@router.get("/v1/openapi.json", include_in_schema=False)
async def openapi_document(rt: Runtime) -> JSONResponse:
    document: dict[str, Any] = rt.catalog.document
    return JSONResponse(document, headers={"cache-control": "public, max-age=60"})


@router.get("/v1/docs", include_in_schema=False)
async def swagger_ui() -> HTMLResponse:
    return HTMLResponse(_SWAGGER)


@router.get("/v1/docs/reference", include_in_schema=False)
async def redoc() -> HTMLResponse:
    return HTMLResponse(_REDOC)
