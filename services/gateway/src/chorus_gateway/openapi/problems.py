"""The published error format (RFC 9457 problem details) as OpenAPI components.

Version 1 of the format: `type`, `title`, `status`, `detail`, `instance`, plus
extension members named by each problem type (`errors` for validation, `service`
for upstream failures, `required_roles`/`required_scopes` for 403). Clients may
rely on these members; new extension members may be added within version 1.
"""

from __future__ import annotations

from typing import Any

PROBLEM_MEDIA = "application/problem+json"
FORMAT_VERSION = "1"

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "Problem",
    "description": "RFC 9457 problem details (Chorus error format, version 1).",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string", "description": "URI naming the problem type"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 100, "maximum": 599},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
    },
    "additionalProperties": True,
}
FIELD_ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "FieldError",
    "required": ["field", "message"],
    "properties": {
        "field": {"type": "string", "description": "dotted name of the field"},
        "in": {"type": "string", "description": "body, query, path, header"},
        "pointer": {"type": "string", "description": "JSON pointer into the request"},
        "message": {"type": "string"},
        "code": {"type": "string"},
    },
}
VALIDATION_PROBLEM_SCHEMA: dict[str, Any] = {
    "allOf": [
        {"$ref": "#/components/schemas/Problem"},
        {"type": "object", "properties": {
            "errors": {"type": "array", "items": {"$ref": "#/components/schemas/FieldError"}}}},
    ],
    "title": "ValidationProblem",
}  # fmt: skip

_BASE = "https://chorus.dev/problems/"
_EXAMPLES: dict[str, tuple[str, str, str, str]] = {
    # status: (description, slug, title, detail)
    "400": ("Bad request", "bad-request", "Bad request", "the request is malformed"),
    "401": ("Not authenticated", "unauthorized", "Authentication required", "token expired"),
    "403": ("Not allowed", "forbidden", "Forbidden", "requires one of the roles: admin"),
    "404": ("Not found", "not-found", "Not found", "no such item"),
    "409": ("Conflict", "conflict", "Conflict", "the item changed state"),
    "413": ("Request too large", "too-large", "Request body too large", "limited to 1048576"),
    "422": ("Invalid request", "validation", "Invalid request", "Invalid value for: title"),
    "429": ("Rate limited", "rate-limited", "Too many requests", "rate limit of 1200 per minute"),
    "500": ("Internal error", "internal", "Internal error", "The request could not be completed."),
    "502": ("Bad gateway", "bad-gateway", "Bad gateway", "the service gave no valid answer"),
    "503": ("Unavailable", "upstream-unavailable", "Service unavailable", "cannot be reached"),
    "504": ("Timed out", "upstream-timeout", "Service timed out", "did not answer in time"),
}


def problem_response(status: str) -> dict[str, Any]:
    description, slug, title, detail = _EXAMPLES[status]
    schema = "ValidationProblem" if status == "422" else "Problem"
    example: dict[str, Any] = {"type": _BASE + slug, "title": title, "status": int(status),
                               "detail": detail}  # fmt: skip
    if status == "422":
        example["errors"] = [{"field": "title", "in": "body", "pointer": "/title",
                              "message": "Field required", "code": "missing"}]  # fmt: skip
    return {
        "description": description,
        "content": {PROBLEM_MEDIA: {"schema": {"$ref": f"#/components/schemas/{schema}"},
                                    "example": example}},
    }  # fmt: skip


def components() -> dict[str, Any]:
    return {
        "schemas": {
            "Problem": PROBLEM_SCHEMA,
            "FieldError": FIELD_ERROR_SCHEMA,
            "ValidationProblem": VALIDATION_PROBLEM_SCHEMA,
        },
        "responses": {f"Problem{status}": problem_response(status) for status in _EXAMPLES},
    }
