"""Rate limits per caller (configurable per tenant) and Idempotency-Key on POST."""

from __future__ import annotations

import asyncio
import uuid

from .conftest import EchoCounters, Tenant


async def test_rate_limit_answers_429_with_headers(tenant: Tenant) -> None:
    client = tenant.client
    changed = await client.patch(
        "/v1/directory/tenant", json={"rate_limit_per_minute": 60, "rate_limit_burst": 3},
        headers=tenant.admin,
    )  # fmt: skip
    assert changed.status_code == 200
    key = await tenant.key("content:read")
    answers = [await client.get("/v1/content/items", headers=key) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[0].headers["ratelimit-limit"] == "3"
    assert answers[0].headers["ratelimit-remaining"] == "2"
    assert answers[2].headers["ratelimit-remaining"] == "0"
    refused = answers[3]
    assert refused.headers["content-type"] == "application/problem+json"
    assert 1 <= int(refused.headers["retry-after"]) <= 2
    assert refused.headers["ratelimit-policy"] == "3;w=3"
    # Limits are per caller: another key of the same tenant has its own allowance.
    other = await tenant.key("content:read")
    assert (await client.get("/v1/content/items", headers=other)).status_code == 200
    # After the advertised wait, the caller may go on.
    await asyncio.sleep(int(refused.headers["retry-after"]))
    assert (await client.get("/v1/content/items", headers=key)).status_code == 200


async def test_a_retried_post_has_one_effect(tenant: Tenant, echo_counters: EchoCounters) -> None:
    effect = uuid.uuid4().hex
    headers = {**tenant.admin, "Idempotency-Key": f"create-{effect}"}
    answers = [
        await tenant.client.post("/v1/content/effects", content=effect, headers=headers)
        for _ in range(5)
    ]
    assert [a.status_code for a in answers] == [201] * 5
    assert {a.text for a in answers} == {'{"effect":1}'}
    assert echo_counters.effects[effect] == 1
    assert "idempotent-replayed" not in answers[0].headers
    assert all(a.headers["idempotent-replayed"] == "true" for a in answers[1:])

    reused = await tenant.client.post("/v1/content/effects", content="other", headers=headers)
    assert reused.status_code == 422 and reused.json()["type"].endswith("idempotency-key-reused")


async def test_a_concurrent_duplicate_gets_409(tenant: Tenant, echo_counters: EchoCounters) -> None:
    effect = uuid.uuid4().hex
    headers = {**tenant.admin, "Idempotency-Key": effect}
    first, second = await asyncio.gather(
        tenant.client.post("/v1/content/effects", content=effect, headers=headers),
        tenant.client.post("/v1/content/effects", content=effect, headers=headers),
    )
    assert sorted([first.status_code, second.status_code]) == [201, 409]
    assert echo_counters.effects[effect] == 1


async def test_keys_are_per_caller_and_failures_are_not_kept(tenant: Tenant) -> None:
    effect = uuid.uuid4().hex
    other = await tenant.as_role("admin")
    for headers in (tenant.admin, other):
        answer = await tenant.client.post(
            "/v1/content/effects", content=effect, headers={**headers, "Idempotency-Key": "k"}
        )
        assert answer.json() == {"effect": 1} or answer.json() == {"effect": 2}
        assert "idempotent-replayed" not in answer.headers
    for _ in range(2):
        boom = await tenant.client.post(
            "/v1/rewards/boom", headers={**tenant.admin, "Idempotency-Key": f"b-{effect}"}
        )
        assert boom.status_code == 500 and "idempotent-replayed" not in boom.headers
