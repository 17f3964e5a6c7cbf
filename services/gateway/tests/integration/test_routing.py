"""Routing: what the gateway forwards to a service, and how upstream failures read."""

from __future__ import annotations

import re
from typing import Any

from chorus_platform.identity import IDENTITY_HEADER

from .conftest import Tenant

TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


async def test_a_person_is_forwarded_as_a_signed_identity(tenant: Tenant) -> None:
    team = await tenant.client.post("/v1/directory/teams", json={"name": "Sales"},
                                    headers=tenant.admin)  # fmt: skip
    person = await tenant.person("editor", "approver", teams=(team.json()["id"],))
    headers = await tenant.login(person["email"])
    forged = "eyJmb3JnZWQiOnRydWV9.c2ln"
    answer = await tenant.client.get(
        "/v1/content/items?state=draft&limit=5",
        headers={**headers, IDENTITY_HEADER: forged, "traceparent": TRACEPARENT,
                 "x-request-id": "req-123"},
    )  # fmt: skip
    assert answer.status_code == 200, answer.text
    echoed: dict[str, Any] = answer.json()
    assert echoed["path"] == "/v1/content/items" and echoed["query"] == "state=draft&limit=5"
    identity = echoed["identity"]
    assert identity["tenant_id"] == tenant.id and identity["principal_id"] == person["id"]
    assert identity["kind"] == "person"
    assert sorted(identity["roles"]) == ["approver", "editor"]
    assert identity["team_ids"] == [team.json()["id"]]
    forwarded = echoed["headers"]
    assert "authorization" not in forwarded
    assert forwarded["x-request-id"] == "req-123" and answer.headers["x-request-id"] == "req-123"
    assert forwarded["traceparent"].split("-")[1] == TRACEPARENT.split("-")[1]


async def test_an_api_key_acts_with_its_scopes(tenant: Tenant) -> None:
    key = await tenant.key("content:write", "metrics:read")
    answer = await tenant.client.post("/v1/content/items", json={"title": "x"}, headers=key)
    identity = answer.json()["identity"]
    assert identity["kind"] == "api_key"
    assert sorted(identity["scopes"]) == ["content:write", "metrics:read"]
    assert identity["roles"] == ["editor"]  # what content:write lets a key act as
    assert answer.json()["body"] == '{"title":"x"}'


async def test_the_tracked_link_redirect_needs_no_authentication(tenant: Tenant) -> None:
    answer = await tenant.client.get("/l/abc123")
    assert answer.status_code == 200 and answer.json()["identity"] is None
    assert answer.json()["path"] == "/l/abc123"


async def test_upstream_failures_are_problems(tenant: Tenant) -> None:
    client = tenant.client
    down = await client.get("/v1/metrics/kpis/reach", headers=tenant.admin)
    assert down.status_code == 503
    assert down.headers["content-type"] == "application/problem+json"
    assert down.json()["service"] == "metrics"
    slow = await client.get("/v1/rewards/slow", headers=tenant.admin)
    assert slow.status_code == 504 and slow.json()["title"] == "Service timed out"
    boom = await client.get("/v1/rewards/boom", headers=tenant.admin)
    assert boom.status_code == 500 and boom.json() == {"title": "boom"}


async def test_unknown_routes_and_methods(tenant: Tenant) -> None:
    client = tenant.client
    missing = await client.get("/v1/nothing/here", headers=tenant.admin)
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    odd = await client.request("TRACE", "/v1/content/items", headers=tenant.admin)
    assert odd.status_code == 405


async def test_streamed_bodies_pass_through(tenant: Tenant) -> None:
    async with tenant.client.stream("GET", "/v1/rewards/chunks", headers=tenant.admin) as answer:
        assert answer.status_code == 200
        text = "".join([part async for part in answer.aiter_text()])
    assert text == "chunk 0\nchunk 1\nchunk 2\n"


async def test_forwarded_requests_get_a_request_id_and_are_counted_by_route(
    tenant: Tenant,
) -> None:
    def count(exposition: str) -> float:
        wanted = (
            'chorus_http_requests_total{method="GET",route="/v1/content/{rest:path}",'
            'service="gateway",status="200"}'
        )
        return sum(float(line.rsplit(" ", 1)[1]) for line in exposition.splitlines()
                   if line.startswith(wanted))  # fmt: skip

    before = count((await tenant.client.get("/metrics")).text)
    answer = await tenant.client.get("/v1/content/items", headers=tenant.admin)
    assert answer.status_code == 200
    generated = answer.headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", generated)
    assert answer.json()["headers"]["x-request-id"] == generated
    # Forwarded requests are answered in front of the middleware stack: they still count.
    assert count((await tenant.client.get("/metrics")).text) == before + 1
