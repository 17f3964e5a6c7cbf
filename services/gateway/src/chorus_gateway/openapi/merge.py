"""One OpenAPI 3.1 document from the services' own documents and the gateway's.

Each service contributes the paths the route table sends to it (so the document
shows exactly what the gateway serves). Schema names that two services define
differently are prefixed with the service's name, and that service's `$ref`s
rewritten. Every operation gets the gateway's security requirements and the
published problem+json responses (validation errors, 401/403/429, upstream
failures), replacing FastAPI's default 422 schema, which is not what Chorus
services answer.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

from chorus_gateway.openapi.problems import components as problem_components
from chorus_gateway.routing.policy import Policy

METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
_SECURITY_SCHEMES = {
    "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
               "description": "A person's token: the built-in login or the tenant's OIDC IdP"},
    "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key",
               "description": "A tenant API key (also accepted as a bearer token)"},
}  # fmt: skip
_AUTH_ERRORS = ("401", "403", "429")
_UPSTREAM_ERRORS = ("502", "503", "504")


def _rewrite_refs(node: Any, renames: Mapping[str, str]) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if (
                key == "$ref"
                and isinstance(value, str)
                and value.startswith("#/components/schemas/")
            ):
                name = value.rsplit("/", 1)[1]
                out[key] = f"#/components/schemas/{renames.get(name, name)}"
            else:
                out[key] = _rewrite_refs(value, renames)
        return out
    if isinstance(node, list):
        return [_rewrite_refs(v, renames) for v in node]
    return node


def _ref(status: str) -> dict[str, str]:
    return {"$ref": f"#/components/responses/Problem{status}"}


def _decorate(
    path: str, method: str, operation: dict[str, Any], policy: Policy, proxied: bool
) -> None:
    rule = policy.match(method.upper(), path.replace("{", "").replace("}", ""))
    responses: dict[str, Any] = operation.setdefault("responses", {})
    responses.pop("422", None)
    if operation.get("parameters") or operation.get("requestBody"):
        responses["422"] = _ref("422")
    public = rule is not None and rule.public
    if public:
        operation["security"] = []
    else:
        for status in _AUTH_ERRORS:
            responses.setdefault(status, _ref(status))
        if rule is not None:
            roles = ", ".join(sorted(r.value for r in rule.roles)) or "none"
            scopes = ", ".join(sorted(rule.scopes)) or "none (people only)"
            note = f"\n\n**Access** — roles: {roles}; API key scopes: {scopes}."
            operation["description"] = (operation.get("description") or "") + note
    if proxied:
        for status in _UPSTREAM_ERRORS:
            responses.setdefault(status, _ref(status))


def merge(
    gateway_doc: dict[str, Any],
    service_docs: Mapping[str, dict[str, Any]],
    owns: Callable[[str, str], bool],
    policy: Policy,
    *,
    title: str,
    version: str,
    server_url: str,
) -> dict[str, Any]:
    """`owns(service, path)`: does the route table send `path` to `service`?"""
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    tags: dict[str, dict[str, Any]] = {}
    sources = [("gateway", gateway_doc, False), *((n, d, True) for n, d in service_docs.items())]
    for name, source, proxied in sources:
        doc = copy.deepcopy(source)
        theirs: dict[str, Any] = doc.get("components", {}).get("schemas", {})
        renames = {
            schema: f"{name.capitalize()}{schema}"
            for schema, body in theirs.items()
            if schema in schemas and schemas[schema] != body
        }
        doc = _rewrite_refs(doc, renames)
        for schema, body in doc.get("components", {}).get("schemas", {}).items():
            schemas[renames.get(schema, schema)] = body
        for path, item in doc.get("paths", {}).items():
            if proxied and not owns(name, path):
                continue
            for method in METHODS:
                if method in item:
                    _decorate(path, method, item[method], policy, proxied)
                    for tag in item[method].get("tags", []):
                        tags.setdefault(tag, {"name": tag, "x-service": name})
            paths[path] = item
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    extra = problem_components()
    return {
        "openapi": "3.1.0",
        "info": {
            "title": title,
            "version": version,
            "description": "The Chorus public API. Errors are RFC 9457 problem details "
            "(`application/problem+json`, format version 1): see the `Problem` schema.",
        },
        "servers": [{"url": server_url}],
        "security": [{"bearer": []}, {"apiKey": []}],
        "tags": sorted(tags.values(), key=lambda t: t["name"]),
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": {**schemas, **extra["schemas"]},
            "responses": extra["responses"],
            "securitySchemes": _SECURITY_SCHEMES,
        },
    }
