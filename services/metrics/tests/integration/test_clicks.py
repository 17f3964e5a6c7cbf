"""Tracked-link clicks become valid clicks in `engagement.updated`, or are rejected."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chorus_devstack.waiting import eventually
from chorus_events.contracts import CLICK_RECORDED, SHARE_POSTED, Measurement
from chorus_events.envelope import encode

from .conftest import Metrics, click, share_posted, visitor


async def _settled(metrics: Metrics, tenant: str, share_id: str, clicks: int, **rejected: int):
    async def done() -> bool:
        latest = metrics.updates.latest(tenant, share_id)
        if latest is None or latest.totals.clicks != clicks:
            return False
        seen: dict[str, int] = {}
        for event in metrics.updates.of(tenant):
            if event.share_id == share_id:
                for rule, n in event.rejected.items():
                    seen[rule] = seen.get(rule, 0) + n
        return seen == rejected

    await eventually(done, what=f"{share_id}: {clicks} clicks, rejected {rejected}")
    latest = metrics.updates.latest(tenant, share_id)
    assert latest is not None
    return latest


async def test_valid_duplicate_bot_and_self_clicks(metrics: Metrics, tenant: str) -> None:
    share = share_posted(tenant, "shr-1", advocate_id="adv-7")
    own = visitor()
    response = await metrics.client.post(
        "/v1/metrics/advocate-fingerprints",
        json={"advocate_id": "adv-7", "visitor_hashes": [own]},
        headers=metrics.admin(tenant),
    )
    assert response.status_code == 200, response.text
    await metrics.produce(SHARE_POSTED, share)
    await eventually(lambda: _share_known(metrics, tenant, "shr-1"), what="share in the read model")
    alice, bob = visitor(), visitor()
    t0 = datetime.now(UTC)
    await metrics.produce(
        CLICK_RECORDED,
        click(tenant, "shr-1", visitor=alice, at=t0),
        click(tenant, "shr-1", visitor=bob, at=t0 + timedelta(seconds=1)),
        click(tenant, "shr-1", visitor=alice, at=t0 + timedelta(seconds=30)),  # duplicate
        click(
            tenant,
            "shr-1",
            user_agent="Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        ),
        click(
            tenant,
            "shr-1",
            user_agent="LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient)",
        ),
        click(tenant, "shr-1", visitor=own),  # the advocate's own click
    )
    latest = await _settled(metrics, tenant, "shr-1", 2, duplicate=1, bot=2, self_click=1)
    assert latest.advocate_id == "adv-7"
    assert latest.measurement.clicks is Measurement.MEASURED
    reasons = await metrics.pool.fetch(
        "SELECT reason, count(*) AS n FROM clicks WHERE tenant_id = $1 GROUP BY reason", tenant
    )
    assert {r["reason"]: r["n"] for r in reasons} == {
        None: 2,
        "duplicate": 1,
        "bot": 2,
        "self_click": 1,
    }


async def test_burst_takes_back_clicks_already_counted(metrics: Metrics, tenant: str) -> None:
    rules = (
        await metrics.client.get("/v1/metrics/fraud-rules", headers=metrics.admin(tenant))
    ).json()
    rules["rules"]["burst"] = {"enabled": True, "max_clicks": 4, "window_seconds": 60}
    put = await metrics.client.put(
        "/v1/metrics/fraud-rules", json=rules["rules"], headers=metrics.admin(tenant)
    )
    assert put.status_code == 200, put.text
    await metrics.produce(SHARE_POSTED, share_posted(tenant, "shr-b"))
    await eventually(lambda: _share_known(metrics, tenant, "shr-b"), what="share known")
    t0 = datetime.now(UTC)
    prefix = "198.51.100.0/24"
    first = [
        click(tenant, "shr-b", ip_prefix=prefix, at=t0 + timedelta(seconds=i)) for i in range(3)
    ]
    await metrics.produce(CLICK_RECORDED, *first)
    counted = await _settled(metrics, tenant, "shr-b", 3)
    assert counted.deltas.clicks == 3
    # The 4th and 5th click from the same /24 within the minute reveal a burst.
    await metrics.produce(
        CLICK_RECORDED,
        *(
            click(tenant, "shr-b", ip_prefix=prefix, at=t0 + timedelta(seconds=3 + i))
            for i in range(2)
        ),
        click(tenant, "shr-b", ip_prefix="192.0.2.0/24", at=t0 + timedelta(seconds=4)),
    )
    corrected = await _settled(metrics, tenant, "shr-b", 1, burst=5)
    assert corrected.sequence > counted.sequence
    deltas = [e.deltas.clicks for e in metrics.updates.of(tenant) if e.share_id == "shr-b"]
    assert sum(deltas) == 1
    assert min(deltas) < 0, "the late verdict is a negative correction"
    revoked = await metrics.fetchval(
        "SELECT count(*) FROM clicks WHERE tenant_id = $1 AND corrected_at IS NOT NULL", tenant
    )
    assert revoked == 3


async def test_clicks_before_their_share_are_held_then_counted(
    metrics: Metrics, tenant: str
) -> None:
    await metrics.produce(CLICK_RECORDED, click(tenant, "shr-late"), click(tenant, "shr-late"))

    async def held() -> bool:
        n = await metrics.fetchval(
            "SELECT count(*) FROM clicks WHERE tenant_id = $1 AND status = 'pending'", tenant
        )
        return bool(n == 2)

    await eventually(held, what="clicks held for the unknown share")
    await metrics.produce(SHARE_POSTED, share_posted(tenant, "shr-late"))
    latest = await _settled(metrics, tenant, "shr-late", 2)
    assert latest.totals.clicks == 2


async def _share_known(metrics: Metrics, tenant: str, share_id: str) -> bool:
    n = await metrics.fetchval(
        "SELECT count(*) FROM shares WHERE tenant_id = $1 AND share_id = $2", tenant, share_id
    )
    return bool(n)


async def test_redelivered_and_re_produced_clicks_count_once(metrics: Metrics, tenant: str) -> None:
    # The ingest consumer keeps no tracking row per event (`tracked=False`): the clicks
    # table's click ids are what make a redelivery (same event, same ce_id) and a
    # re-produced click (sharing's retry: a new ce_id, the same click id) count once.
    await metrics.produce(SHARE_POSTED, share_posted(tenant, "shr-re"))
    await eventually(
        lambda: _share_known(metrics, tenant, "shr-re"), what="share in the read model"
    )
    once, other = click(tenant, "shr-re"), click(tenant, "shr-re")
    record = encode(CLICK_RECORDED, once, source="/chorus/test")
    for _ in range(3):  # the same record, as Kafka redelivers it
        await metrics.producer.send(
            record.topic, value=record.value, key=record.key, headers=record.headers
        )
    await metrics.produce(CLICK_RECORDED, once, other)  # re-produced: new ce_ids
    await _settled(metrics, tenant, "shr-re", 2)
    stored = await metrics.fetchval("SELECT count(*) FROM clicks WHERE tenant_id = $1", tenant)
    assert stored == 2
    assert (
        await metrics.fetchval(
            "SELECT clicks FROM shares WHERE tenant_id = $1 AND share_id = 'shr-re'", tenant
        )
        == 2
    )
