"""`GET /l/{code}`: the public tracked-link redirect (no identity; routed without auth)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from chorus_sharing.api.deps import Runtime
from chorus_sharing.metrics import REDIRECTS
from chorus_sharing.redirect import LinkNotFound, Visitor

router = APIRouter(tags=["links"])
# no-store: a cached redirect would send the visitor on without us counting the click.
_HEADERS = {"cache-control": "no-store", "referrer-policy": "no-referrer-when-downgrade"}


@router.get(
    "/l/{code}",
    status_code=302,
    response_class=Response,
    responses={302: {"description": "To the link's stored destination"}, 404: {}, 503: {}},
)
async def follow_link(code: str, request: Request, runtime: Runtime) -> Response:
    client = request.client
    visitor = Visitor(
        ip=client.host if client else None,
        user_agent=request.headers.get("user-agent"),
        referrer=request.headers.get("referer"),
    )
    try:
        destination = await runtime.redirects.follow(code, visitor)
    except LinkNotFound:
        REDIRECTS.labels("not_found").inc()
        raise
    except Exception:
        REDIRECTS.labels("unrecorded").inc()
        raise
    REDIRECTS.labels("redirected").inc()
    # Location is only ever the stored destination (validated http(s) URL, no whitespace).
    return Response(status_code=302, headers={"location": destination, **_HEADERS})
