"""Admin configuration over HTTP: versioned rules and tenant settings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chorus_platform.identity import Role

from .conftest import RewardsApp


async def test_rules_start_at_the_defaults_and_each_put_is_a_new_version(
    rewards: RewardsApp, tenant: str
) -> None:
    c, admin = rewards.client, rewards.headers(tenant)
    first = (await c.get("/v1/rewards/rules", headers=rewards.advocate(tenant, "a1"))).json()
    assert first["version"] == 1 and first["effective_from"] is None
    assert first["rules"]["share"]["facebook"] == 0

    rules = first["rules"] | {"share": {"linkedin": 25, "x": 5}}
    put = await c.put("/v1/rewards/rules", json={"rules": rules}, headers=admin)
    assert put.status_code == 200, put.text
    assert put.json()["version"] == 2
    versions = (await c.get("/v1/rewards/rules/versions", headers=admin)).json()
    assert [v["version"] for v in versions] == [1, 2]
    assert (await c.get("/v1/rewards/rules", headers=admin)).json()["rules"]["share"] == {
        "linkedin": 25,
        "x": 5,
    }


async def test_rules_rewarding_facebook_posting_or_backdated_are_refused(
    rewards: RewardsApp, tenant: str
) -> None:
    c, admin = rewards.client, rewards.headers(tenant)
    facebook = await c.put(
        "/v1/rewards/rules", json={"rules": {"share": {"facebook": 1}}}, headers=admin
    )
    assert facebook.status_code == 422
    assert "forbids rewarding" in facebook.text
    past = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    backdated = await c.put(
        "/v1/rewards/rules", json={"rules": {}, "effective_from": past}, headers=admin
    )
    assert backdated.status_code == 422


async def test_only_admins_change_configuration(rewards: RewardsApp, tenant: str) -> None:
    c = rewards.client
    advocate = rewards.headers(tenant, "a1", (Role.ADVOCATE,))
    assert (
        await c.put("/v1/rewards/rules", json={"rules": {}}, headers=advocate)
    ).status_code == 403
    body = {"time_zone": "Europe/Berlin", "anonymous_leaderboards": True}
    assert (await c.put("/v1/rewards/settings", json=body, headers=advocate)).status_code == 403
    key = rewards.api_key(tenant, ["rewards:admin"])
    assert (await c.put("/v1/rewards/settings", json=body, headers=key)).status_code == 200
    assert (await c.get("/v1/rewards/settings", headers=advocate)).json() == body


async def test_an_unknown_time_zone_is_refused(rewards: RewardsApp, tenant: str) -> None:
    body = {"time_zone": "Mars/Olympus", "anonymous_leaderboards": False}
    resp = await rewards.client.put(
        "/v1/rewards/settings", json=body, headers=rewards.headers(tenant)
    )
    assert resp.status_code == 422
