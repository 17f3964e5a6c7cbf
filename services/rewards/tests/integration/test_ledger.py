"""The ledger consumer on the real stack: points, caps, sequences, corrections, replays."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from chorus_devstack.waiting import eventually
from chorus_events.contracts.base import Network

from .conftest import RewardsApp
from .streams import ShareCounter, produce, record, share_posted

NOW = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)


async def _account(rewards: RewardsApp, tenant: str, advocate: str) -> dict[str, Any]:
    resp = await rewards.client.get(
        f"/v1/rewards/accounts/{advocate}", headers=rewards.headers(tenant)
    )
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


async def _ledger(rewards: RewardsApp, tenant: str, advocate: str) -> list[dict[str, Any]]:
    resp = await rewards.client.get(
        f"/v1/rewards/accounts/{advocate}/ledger", headers=rewards.headers(tenant)
    )
    entries: list[dict[str, Any]] = resp.json()["entries"]
    return entries


async def _entries_reach(rewards: RewardsApp, tenant: str, advocate: str, n: int) -> None:
    async def enough() -> bool:
        return len(await _ledger(rewards, tenant, advocate)) >= n

    await eventually(enough, what=f"{n} ledger entries for {advocate}")


async def test_shares_and_engagement_earn_points_traceable_to_events_and_rules(
    rewards: RewardsApp, kafka_bootstrap: str, tenant: str
) -> None:
    prefix = rewards.settings.topic_prefix
    linkedin = share_posted(tenant, "ada", NOW)
    facebook = share_posted(tenant, "ada", NOW, network=Network.FACEBOOK)
    counter = ShareCounter(linkedin)
    first = counter.update(NOW + timedelta(minutes=5), clicks=3, impressions=2500, comments=1)
    records = [record(prefix, linkedin), record(prefix, facebook), record(prefix, first)]
    await produce(kafka_bootstrap, records)
    await _entries_reach(rewards, tenant, "ada", 3)

    entries = await _ledger(rewards, tenant, "ada")
    by_event = {e["event_id"]: e for e in entries}
    ids = [dict(r.headers)["ce_id"].decode() for r in records]
    assert by_event[ids[0]]["points"] == 10 and by_event[ids[0]]["rule_version"] == 1
    assert by_event[ids[1]]["points"] == 0, "Facebook forbids rewarding posting"
    engagement = by_event[ids[2]]
    # 3 clicks x1 + 1 comment x2 + floor(2500 / 1000 x 1) = 7
    assert engagement["points"] == 7
    assert engagement["engagement"] == 4 and engagement["reach"] == 2500
    assert engagement["breakdown"]["click"] == {"count": 3, "points": 3, "uncapped": 3}
    account = await _account(rewards, tenant, "ada")
    assert account["balance"] == account["earned"] == 17
    assert account["shares"] == 1, "the Facebook share does not count towards badges"


async def test_stale_and_replayed_updates_count_once_and_corrections_take_points_back(
    rewards: RewardsApp, kafka_bootstrap: str, tenant: str
) -> None:
    prefix = rewards.settings.topic_prefix
    share = share_posted(tenant, "bo", NOW)
    counter = ShareCounter(share)
    u1 = counter.update(NOW + timedelta(minutes=1), clicks=10)
    u2 = counter.update(NOW + timedelta(minutes=2), clicks=5)
    fraud = counter.update(NOW + timedelta(minutes=3), clicks=-8)  # fraud verdict
    stream = [record(prefix, share), record(prefix, u1), record(prefix, u2)]
    stale = record(prefix, u1)  # same content as u1, new event id: metrics replayed it
    await produce(kafka_bootstrap, [*stream, stale, record(prefix, fraud), *stream])
    await _entries_reach(rewards, tenant, "bo", 4)

    async def settled() -> bool:
        return (await _account(rewards, tenant, "bo"))["balance"] == 10 + 15 - 8

    await eventually(settled, what="balance after the correction")
    entries = sorted(await _ledger(rewards, tenant, "bo"), key=lambda e: e["id"])
    # Order holds within a topic; a share and its engagement travel on two topics.
    engagement = [e for e in entries if e["kind"] == "engagement"]
    assert [e["points"] for e in engagement] == [10, 5, -8]
    assert [e["points"] for e in entries if e["kind"] == "share"] == [10]
    assert engagement[-1]["breakdown"]["click"]["count"] == -8


async def test_daily_caps_forfeit_the_excess_and_corrections_only_take_back_what_was_paid(
    rewards: RewardsApp, kafka_bootstrap: str, tenant: str
) -> None:
    admin = rewards.headers(tenant)
    rules = {"share": {"linkedin": 10}, "daily_caps": {"click": 12, "share": 15}}
    effective = (NOW - timedelta(days=1)).isoformat()
    put = await rewards.client.put("/v1/rewards/rules", json={"rules": rules}, headers=admin)
    assert put.status_code == 200
    del effective  # rules start now; the events below are dated after it
    at = datetime.now(UTC) + timedelta(seconds=5)
    prefix = rewards.settings.topic_prefix
    s1, s2 = share_posted(tenant, "cy", at), share_posted(tenant, "cy", at)
    c1, c2 = ShareCounter(s1), ShareCounter(s2)
    events = [
        s1,
        s2,  # second share: only 5 of its 10 points fit under the share cap of 15
        c1.update(at, clicks=8),
        c2.update(at, clicks=8),  # only 4 of 8 fit under the click cap of 12
        c2.update(at, clicks=-6),  # correction: takes back 4 (all that share 2 was paid)
    ]
    await produce(kafka_bootstrap, [record(prefix, e) for e in events])
    await _entries_reach(rewards, tenant, "cy", 5)
    entries = sorted(await _ledger(rewards, tenant, "cy"), key=lambda e: e["id"])
    by_kind = {k: [e for e in entries if e["kind"] == k] for k in ("share", "engagement")}
    assert [e["points"] for e in by_kind["share"]] == [10, 5]
    assert [e["points"] for e in by_kind["engagement"]] == [8, 4, -4]
    assert {e["rule_version"] for e in entries} == {2}
    assert by_kind["share"][1]["breakdown"]["share"] == {"points": 5, "uncapped": 10}
    assert (await _account(rewards, tenant, "cy"))["balance"] == 23
