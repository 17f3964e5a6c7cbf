"""Bad input is a 4xx RFC 9457 problem naming the field, never a 500 (cases found by fuzzing)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from .conftest import RewardsApp

TOO_BIG = 2**63  # one past Postgres' bigint


def named_field(body: dict[str, Any]) -> set[str]:
    """The fields a problem names: `field` for a business check, `errors[].field` for the
    schema's."""
    names = {e["field"] for e in body.get("errors", [])}
    return names | ({body["field"]} if "field" in body else set())


async def assert_problem(response: Any, status: int, field: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status
    assert field in named_field(body), body


@pytest.mark.parametrize("scope", ["team", "hashtag"])
async def test_a_team_or_hashtag_board_without_its_scope_id_is_a_422(
    rewards: RewardsApp, tenant: str, scope: str
) -> None:
    c, admin = rewards.client, rewards.headers(tenant)
    top = await c.get(f"/v1/rewards/leaderboards/points?scope={scope}", headers=admin)
    await assert_problem(top, 422, "scope_id")
    rank = await c.get(f"/v1/rewards/leaderboards/points/advocates/a1?scope={scope}", headers=admin)
    await assert_problem(rank, 422, "scope_id")
    empty = await c.get(f"/v1/rewards/leaderboards/points?scope={scope}&scope_id=", headers=admin)
    await assert_problem(empty, 422, "scope_id")
    ok = await c.get(f"/v1/rewards/leaderboards/points?scope={scope}&scope_id=x", headers=admin)
    assert ok.status_code == 200, ok.text


@pytest.mark.parametrize(
    ("method", "path", "field"),
    [
        ("GET", f"/v1/rewards/contests/{TOO_BIG}", "contest_id"),
        ("GET", f"/v1/rewards/contests/{TOO_BIG}/standings", "contest_id"),
        ("GET", f"/v1/rewards/contests/{TOO_BIG}/audit", "contest_id"),
        ("GET", f"/v1/rewards/raffles/{TOO_BIG}", "raffle_id"),
        ("POST", f"/v1/rewards/raffles/{TOO_BIG}/draw", "raffle_id"),
        ("POST", f"/v1/rewards/redemptions/{TOO_BIG}/fulfil", "redemption_id"),
        ("POST", f"/v1/rewards/redemptions/{TOO_BIG}/cancel", "redemption_id"),
        ("GET", f"/v1/rewards/accounts/a1/ledger?before_id={TOO_BIG}", "before_id"),
    ],
)
async def test_ids_beyond_bigint_are_a_422_naming_the_parameter(
    rewards: RewardsApp, tenant: str, method: str, path: str, field: str
) -> None:
    response = await rewards.client.request(method, path, headers=rewards.headers(tenant))
    await assert_problem(response, 422, field)


async def test_redeeming_an_item_id_beyond_bigint_is_a_422(
    rewards: RewardsApp, tenant: str
) -> None:
    response = await rewards.client.post(
        "/v1/rewards/redemptions", json={"item_id": TOO_BIG}, headers=rewards.headers(tenant)
    )
    await assert_problem(response, 422, "item_id")
    patch = await rewards.client.patch(
        f"/v1/rewards/catalogue/{TOO_BIG}", json={"restock": 1}, headers=rewards.headers(tenant)
    )
    await assert_problem(patch, 422, "item_id")


async def test_advocate_ids_and_texts_postgres_cannot_store_are_a_422(
    rewards: RewardsApp, tenant: str
) -> None:
    c, admin = rewards.client, rewards.headers(tenant)
    await assert_problem(
        await c.get("/v1/rewards/accounts/a%00b", headers=admin), 422, "advocate_id"
    )
    listed = await c.get("/v1/rewards/redemptions?advocate_id=a%00b", headers=admin)
    await assert_problem(listed, 422, "advocate_id")
    item = {"name": "mug\u0000", "cost": 10, "stock": 1}
    await assert_problem(
        await c.post("/v1/rewards/catalogue", json=item, headers=admin), 422, "name"
    )


@pytest.mark.parametrize(
    ("entries", "field"),
    [
        ([[]], "entries.0.0"),
        ([["amy"]], "entries.0.1"),
        ([["amy", -1]], "entries.0.1"),
        ([["amy", 2**31]], "entries.0.1"),
        ([["\ud800", 1]], "entries.0.0"),
        ([["", 1]], "entries.0.0"),
        ([["amy", 1, 2]], "entries.0"),
        ("amy", "entries"),
    ],
)
async def test_malformed_raffle_entries_are_a_422_naming_the_entry(
    rewards: RewardsApp, tenant: str, entries: Any, field: str
) -> None:
    # ASCII-escaped JSON: a lone surrogate is valid JSON text but cannot be encoded as UTF-8.
    body = json.dumps({"seed": "s", "entries": entries, "winners": 1})
    headers = rewards.advocate(tenant, "a1") | {"content-type": "application/json"}
    response = await rewards.client.post(
        "/v1/rewards/raffles/verify", content=body, headers=headers
    )
    await assert_problem(response, 422, field)


async def test_an_empty_raffle_entry_list_draws_nobody(rewards: RewardsApp, tenant: str) -> None:
    body = {"seed": "s", "entries": [], "winners": 3}
    response = await rewards.client.post(
        "/v1/rewards/raffles/verify", json=body, headers=rewards.advocate(tenant, "a1")
    )
    assert response.status_code == 200, response.text
    assert response.json()["winners"] == []
