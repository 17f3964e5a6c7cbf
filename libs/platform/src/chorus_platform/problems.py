"""RFC 9457 problem details: the one error format of every Chorus HTTP API.

Business errors are exceptions that carry their HTTP status (`ProblemError`
subclasses); the handlers installed by `install_problem_handlers` turn them, and
FastAPI's own validation and HTTP errors, into `application/problem+json`.
Unexpected exceptions become a bare 500 problem: never a stack trace.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_BASE = "https://chorus.dev/problems/"

log = logging.getLogger(__name__)


class ProblemError(Exception):
    """An error with an HTTP status; subclass per business error."""

    status: int = 400
    type_slug: str = "bad-request"
    title: str = "Bad request"

    def __init__(
        self, detail: str, *, headers: Mapping[str, str] | None = None, **extensions: Any
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = dict(headers or {})
        self.extensions = extensions


class NotFound(ProblemError):
    status, type_slug, title = 404, "not-found", "Not found"


class Conflict(ProblemError):
    status, type_slug, title = 409, "conflict", "Conflict"


class Unauthorized(ProblemError):
    status, type_slug, title = 401, "unauthorized", "Authentication required"


class Forbidden(ProblemError):
    status, type_slug, title = 403, "forbidden", "Forbidden"


class UnprocessableEntity(ProblemError):
    status, type_slug, title = 422, "unprocessable-entity", "Unprocessable entity"


def problem_response(
    status: int,
    title: str,
    detail: str | None = None,
    *,
    type_slug: str | None = None,
    instance: str | None = None,
    extensions: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + type_slug if type_slug else "about:blank",
        "title": title,
        "status": status,
    }
    if detail:
        body["detail"] = detail
    if instance:
        body["instance"] = instance
    body.update(extensions or {})
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def _field_errors(errors: Sequence[Any]) -> list[dict[str, Any]]:
    out = []
    for err in errors:
        loc = [str(p) for p in err.get("loc", ())]
        # "body.caption" names the field the caller sent; the JSON pointer is for machines.
        where = loc[0] if loc else ""
        path = loc[1:] if where in {"body", "query", "path", "header", "cookie"} else loc
        out.append(
            {
                "field": ".".join(path) or where,
                "in": where,
                "pointer": "/" + "/".join(path),
                "message": err.get("msg", "invalid"),
                "code": err.get("type", "invalid"),
            }
        )
    return out


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(ProblemError)
    async def _problem(request: Request, exc: ProblemError) -> JSONResponse:
        return problem_response(
            exc.status,
            exc.title,
            exc.detail,
            type_slug=exc.type_slug,
            instance=request.url.path,
            extensions=exc.extensions,
            headers=exc.headers or None,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _field_errors(exc.errors())
        fields = ", ".join(sorted({e["field"] for e in errors}))
        return problem_response(
            422,
            "Invalid request",
            f"Invalid value for: {fields}",
            type_slug="validation",
            instance=request.url.path,
            extensions={"errors": errors},
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        headers = dict(exc.headers) if exc.headers else None
        return problem_response(
            exc.status_code,
            str(exc.detail) if exc.detail else "HTTP error",
            instance=request.url.path,
            headers=headers,
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem_response(
            500, "Internal error", "The request could not be completed.", type_slug="internal"
        )
