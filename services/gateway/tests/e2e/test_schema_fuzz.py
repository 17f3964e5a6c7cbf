"""Schemathesis against the merged OpenAPI document, on the running platform: no
operation answers 5xx, and no documented response violates its schema.

Failures of the gateway's own operations fail the test. Failures inside a
service's operation are that service's defects: they are reported as warnings
(each with schemathesis's reproduction), and fail the test too when
CHORUS_FUZZ_STRICT=1, so CI stays green while a service's owners fix theirs.

This module's name sorts after the other end-to-end modules on purpose: it posts
arbitrary (valid by schema) data into the shared session's services, and the
journey test must not depend on what that leaves behind in the event streams.

Runs as an admin of a fresh tenant (the widest access, so the most code runs)
with a bounded number of examples per operation. Schemathesis calls with
`requests` (blocking), so it runs in a worker thread while this event loop
serves the platform.
"""

from __future__ import annotations

import asyncio
import os
import warnings
from typing import Any

import pytest

from .conftest import Stack, new_org

schemathesis = pytest.importorskip("schemathesis", reason="the gateway's `fuzz` extra")

EXAMPLES_PER_OPERATION = 4
# Streams never end; changing the tenant's own limits mid-run would only fuzz 429s.
EXCLUDED = {("GET", "/v1/leaderboards/stream"), ("GET", "/v1/leaderboards/{metric}/stream"),
            ("PATCH", "/v1/directory/tenant")}  # fmt: skip


def fuzz(document: dict[str, Any], base_url: str, headers: dict[str, str]) -> dict[str, list[str]]:
    """Failure reports by owner: "gateway", or the name of the service that answered."""
    from hypothesis import HealthCheck, Phase, given, settings
    from schemathesis.checks import not_a_server_error, response_schema_conformance

    schema = schemathesis.openapi.from_dict(document)
    failures: dict[str, list[str]] = {}
    calls = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) in EXCLUDED:
            continue

        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def check(case: Any) -> None:
            nonlocal calls
            calls += 1
            response = case.call(base_url=base_url, headers=headers, timeout=30)
            case.validate_response(response, checks=[not_a_server_error,
                                                     response_schema_conformance])  # fmt: skip

        try:
            check()
        except (Exception, BaseExceptionGroup) as exc:  # one operation must not hide the others
            owner = owner_of(document, operation.path)
            report = f"{operation.method.upper()} {operation.path}: {exc}"[:2000]
            failures.setdefault(owner, []).append(report)
    assert calls > 100, f"only {calls} calls were made"
    return failures


def owner_of(document: dict[str, Any], path: str) -> str:
    tags = next(iter(document["paths"][path].values())).get("tags", [])
    by_tag = {t["name"]: t.get("x-service", "gateway") for t in document.get("tags", [])}
    return next((by_tag[t] for t in tags if t in by_tag), "gateway")


async def test_fuzzing_finds_no_server_error_and_no_schema_violation(stack: Stack) -> None:
    org = await new_org(stack)
    admin = org.headers["admin"]
    limits = {"rate_limit_per_minute": 1_000_000, "rate_limit_burst": 100_000}
    roomy = await stack.client.patch("/v1/directory/tenant", json=limits, headers=admin)
    assert roomy.status_code == 200
    document = (await stack.client.get("/v1/openapi.json")).json()
    assert len(document["paths"]) > 40  # the services' paths are in, not just the gateway's
    failures = await asyncio.to_thread(fuzz, document, stack.gateway, admin)
    ours = failures.pop("gateway", [])
    for service, reports in sorted(failures.items()):
        warnings.warn(f"{service} defects found by fuzzing:\n" + "\n\n".join(reports),
                      stacklevel=1)  # fmt: skip
    if os.environ.get("CHORUS_FUZZ_STRICT") == "1":
        ours += [r for reports in failures.values() for r in reports]
    assert not ours, "\n\n".join(ours)
