"""Redemptions under concurrency: no oversold stock, no double spend; fulfilment states."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from chorus_devstack.waiting import eventually

from .conftest import RewardsApp
from .streams import produce, record, share_posted


async def _fund(
    rewards: RewardsApp, kafka: str, tenant: str, advocates: list[str], shares: int
) -> None:
    """Each advocate earns 10 points per LinkedIn share, through the real consumer."""
    at = datetime.now(UTC) - timedelta(hours=1)
    events = [share_posted(tenant, a, at) for a in advocates for _ in range(shares)]
    await produce(kafka, [record(rewards.settings.topic_prefix, e) for e in events])
    pool = rewards.runtime.ctx.pool

    async def funded() -> bool:
        total = await pool.fetchval(
            "SELECT coalesce(sum(balance), 0) FROM accounts WHERE tenant_id = $1", tenant
        )
        return bool(total == 10 * shares * len(advocates))

    await eventually(funded, what="advocates funded")


async def _item(rewards: RewardsApp, tenant: str, cost: int, stock: int) -> int:
    resp = await rewards.client.post(
        "/v1/rewards/catalogue",
        json={"name": "Gift card", "cost": cost, "stock": stock},
        headers=rewards.headers(tenant),
    )
    assert resp.status_code == 201, resp.text
    item_id: int = resp.json()["id"]
    return item_id


async def test_fifty_concurrent_redemptions_of_ten_units_give_exactly_ten(
    rewards: RewardsApp, kafka_bootstrap: str, tenant: str
) -> None:
    advocates = [f"adv-{i:02d}" for i in range(50)]
    await _fund(rewards, kafka_bootstrap, tenant, advocates, shares=1)
    item = await _item(rewards, tenant, cost=10, stock=10)

    async def redeem(advocate: str) -> int:
        resp = await rewards.client.post(
            "/v1/rewards/redemptions",
            json={"item_id": item},
            headers=rewards.advocate(tenant, advocate),
        )
        return resp.status_code

    codes = await asyncio.gather(*(redeem(a) for a in advocates))
    assert sorted(codes).count(201) == 10 and codes.count(409) == 40
    items = (
        await rewards.client.get("/v1/rewards/catalogue", headers=rewards.headers(tenant))
    ).json()
    assert items[0]["stock"] == 0
    pool = rewards.runtime.ctx.pool
    balances = await pool.fetch("SELECT balance FROM accounts WHERE tenant_id = $1", tenant)
    assert sorted(r["balance"] for r in balances) == [0] * 10 + [10] * 40
    spent = await pool.fetchval(
        "SELECT count(*) FROM ledger WHERE tenant_id = $1 AND kind = 'redemption'", tenant
    )
    assert spent == 10


async def test_one_balance_never_pays_twice(
    rewards: RewardsApp, kafka_bootstrap: str, tenant: str
) -> None:
    await _fund(rewards, kafka_bootstrap, tenant, ["gus"], shares=3)  # 30 points
    item = await _item(rewards, tenant, cost=10, stock=100)
    gus = rewards.advocate(tenant, "gus")
    codes = await asyncio.gather(
        *(
            rewards.client.post("/v1/rewards/redemptions", json={"item_id": item}, headers=gus)
            for _ in range(20)
        )
    )
    statuses = [r.status_code for r in codes]
    assert statuses.count(201) == 3 and statuses.count(409) == 17
    refused = next(r for r in codes if r.status_code == 409)
    assert refused.json()["type"].endswith("insufficient-points")
    account = await rewards.client.get("/v1/rewards/accounts/gus", headers=gus)
    assert account.json()["balance"] == 0 and account.json()["earned"] == 30


async def test_fulfilment_states_cancel_refunds_and_idempotent_requests(
    rewards: RewardsApp, kafka_bootstrap: str, tenant: str
) -> None:
    await _fund(rewards, kafka_bootstrap, tenant, ["hal"], shares=2)  # 20 points
    item = await _item(rewards, tenant, cost=10, stock=5)
    c, hal, admin = rewards.client, rewards.advocate(tenant, "hal"), rewards.headers(tenant)
    keyed = hal | {"Idempotency-Key": "order-1"}
    first = await c.post("/v1/rewards/redemptions", json={"item_id": item}, headers=keyed)
    again = await c.post("/v1/rewards/redemptions", json={"item_id": item}, headers=keyed)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    second = await c.post("/v1/rewards/redemptions", json={"item_id": item}, headers=hal)
    assert second.status_code == 201

    one, two = first.json()["id"], second.json()["id"]
    assert (await c.post(f"/v1/rewards/redemptions/{one}/fulfil", headers=hal)).status_code == 403
    fulfilled = await c.post(f"/v1/rewards/redemptions/{one}/fulfil", headers=admin)
    assert fulfilled.json()["state"] == "fulfilled"
    late = await c.post(f"/v1/rewards/redemptions/{one}/cancel", headers=admin)
    assert late.status_code == 409

    cancelled = await c.post(f"/v1/rewards/redemptions/{two}/cancel", headers=hal)
    assert cancelled.json()["state"] == "cancelled"
    assert (await c.get("/v1/rewards/accounts/hal", headers=hal)).json()["balance"] == 10
    stock = (await c.get("/v1/rewards/catalogue", headers=hal)).json()[0]["stock"]
    assert stock == 4
    history = (await c.get("/v1/rewards/accounts/hal/ledger", headers=hal)).json()["entries"]
    assert [(e["kind"], e["points"]) for e in history[:3]] == [
        ("refund", 10),
        ("redemption", -10),
        ("redemption", -10),
    ]
    mine = (await c.get("/v1/rewards/redemptions", headers=hal)).json()
    assert {r["state"] for r in mine} == {"fulfilled", "cancelled"}
