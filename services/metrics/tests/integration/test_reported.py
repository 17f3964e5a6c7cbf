"""Network-reported engagement: idempotent batch API, held until the share arrives, text facts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from chorus_devstack.waiting import eventually
from chorus_events.contracts import SHARE_POSTED, Network

from .conftest import Metrics, share_posted

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def item(share_id: str, seid: str, kind: str, count: int, **extra: Any) -> dict[str, Any]:
    return {
        "source": "x-webhook",
        "source_event_id": seid,
        "share_id": share_id,
        "network": "linkedin",
        "kind": kind,
        "count": count,
        "occurred_at": (T0 + timedelta(minutes=len(seid))).isoformat(),
        **extra,
    }


async def _totals(metrics: Metrics, tenant: str, share_id: str) -> dict[str, int] | None:
    row = await metrics.pool.fetchrow(
        "SELECT reactions, comments, reshares, impressions, clicks FROM shares "
        "WHERE tenant_id = $1 AND share_id = $2",
        tenant,
        share_id,
    )
    return dict(row) if row else None


async def test_replayed_batch_counts_once(metrics: Metrics, tenant: str) -> None:
    await metrics.produce(SHARE_POSTED, share_posted(tenant, "shr-r"))
    batch = {
        "items": [
            item("shr-r", "e1", "reactions", 3),
            item("shr-r", "e2", "comments", 1, comment_text="Great work!"),
            item("shr-r", "e3", "reshares", 2),
            item("shr-r", "e1", "reactions", 3),  # same observation twice in one batch
            {"source": "x-webhook", "kind": "reactions"},  # invalid
        ]
    }
    headers = metrics.api_key(tenant, "metrics:write")
    first = await metrics.client.post("/v1/metrics/engagement", json=batch, headers=headers)
    assert first.status_code == 207, first.text
    body = first.json()
    assert (body["accepted"], body["duplicates"], body["invalid"]) == (3, 1, 1)
    assert [r["status"] for r in body["results"]] == [
        "accepted",
        "accepted",
        "accepted",
        "duplicate",
        "invalid",
    ]
    fields = {e["field"] for e in body["results"][4]["errors"]}
    assert {"source_event_id", "network", "count", "occurred_at"} <= fields

    replay = await metrics.client.post("/v1/metrics/engagement", json=batch, headers=headers)
    assert replay.json()["duplicates"] == 4

    async def counted() -> bool:
        totals = await _totals(metrics, tenant, "shr-r")
        return totals is not None and totals["reactions"] == 3 and totals["reshares"] == 2

    await eventually(counted, what="reported engagement counted")
    event = await _wait_event(metrics, tenant, "shr-r", reactions=3)
    assert (event.totals.comments, event.totals.reshares) == (1, 2)
    assert event.measurement.reactions.value == "reported"
    assert await _totals(metrics, tenant, "shr-r") == {
        "reactions": 3,
        "comments": 1,
        "reshares": 2,
        "impressions": 0,
        "clicks": 0,
    }


async def test_scope_is_required(metrics: Metrics, tenant: str) -> None:
    response = await metrics.client.post(
        "/v1/metrics/engagement",
        json={"items": [item("s", "e", "reactions", 1)]},
        headers=metrics.api_key(tenant, "metrics:read"),
    )
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_engagement_before_its_share_is_matched_later(metrics: Metrics, tenant: str) -> None:
    headers = metrics.admin(tenant)
    items = [
        item("shr-early", "a1", "reactions", 4),
        # Cumulative impressions polled twice: the second adds its difference only.
        item("shr-early", "a22", "impressions", 100, cumulative=True),
        item("shr-early", "a333", "impressions", 150, cumulative=True),
        # Wrong network for this share: stored, rejected, reported.
        {**item("shr-early", "a4444", "reactions", 9), "network": "x"},
    ]
    response = await metrics.client.post(
        "/v1/metrics/engagement", json={"items": items}, headers=headers
    )
    assert response.json()["accepted"] == 4

    async def held() -> bool:
        n = await metrics.fetchval(
            "SELECT count(*) FROM reported WHERE tenant_id = $1 AND status = 'pending'", tenant
        )
        return bool(n == 4)

    await eventually(held, what="observations held for the unknown share")
    await metrics.produce(SHARE_POSTED, share_posted(tenant, "shr-early", network=Network.LINKEDIN))
    event = await _wait_event(metrics, tenant, "shr-early", reactions=4)
    assert event.totals.impressions == 150
    assert event.rejected == {"network_mismatch": 1}


async def test_sentiment_and_hashtags_of_comments(metrics: Metrics, tenant: str) -> None:
    await metrics.produce(
        SHARE_POSTED,
        share_posted(tenant, "shr-s", caption="Proud of the team #Chorus2 #Launch"),
    )
    texts = [
        "Congratulations, this is wonderful news! #Chorus2",
        "Love it, great job #chorus2 #Launch",
        "This is terrible and disappointing.",
        "It is a product.",
        "Herzlichen Glückwunsch an das ganze Team! #Chorus2",
    ]
    items = [
        item("shr-s", f"c{i}", "comments", 1, comment_text=text) for i, text in enumerate(texts)
    ]
    response = await metrics.client.post(
        "/v1/metrics/engagement", json={"items": items}, headers=metrics.admin(tenant)
    )
    assert response.json()["accepted"] == 5
    await _wait_event(metrics, tenant, "shr-s", comments=5)
    rows = await metrics.pool.fetch(
        "SELECT source_event_id, language, sentiment_label, hashtags FROM reported "
        "WHERE tenant_id = $1 ORDER BY source_event_id",
        tenant,
    )
    assert [r["sentiment_label"] for r in rows] == [
        "positive",
        "positive",
        "negative",
        "neutral",
        "unscored",
    ]
    assert rows[4]["language"] == "de"
    assert [r["hashtags"] for r in rows] == [
        ["#chorus2"],
        ["#chorus2", "#launch"],
        [],
        [],
        ["#chorus2"],
    ]


async def _wait_event(metrics: Metrics, tenant: str, share_id: str, **totals: int) -> Any:
    async def arrived() -> bool:
        latest = metrics.updates.latest(tenant, share_id)
        return latest is not None and all(getattr(latest.totals, k) == v for k, v in totals.items())

    await eventually(arrived, what=f"engagement.updated of {share_id} with {totals}")
    return metrics.updates.latest(tenant, share_id)


async def test_audience_declared_with_a_share_feeds_estimated_reach(
    metrics: Metrics, tenant: str
) -> None:
    first = share_posted(tenant, "shr-aud-1", advocate_id="adv-a").model_copy(
        update={"audience_size": 1200}
    )
    later = share_posted(tenant, "shr-aud-2", advocate_id="adv-a").model_copy(
        update={"audience_size": 1500}
    )
    silent = share_posted(tenant, "shr-aud-3", advocate_id="adv-b")
    await metrics.produce(SHARE_POSTED, first, later, silent)

    async def followers() -> dict[str, int]:
        rows = await metrics.pool.fetch(
            "SELECT advocate_id, followers FROM audiences WHERE tenant_id = $1", tenant
        )
        return {r["advocate_id"]: r["followers"] for r in rows}

    async def latest_recorded() -> bool:
        return await followers() == {"adv-a": 1500}

    await eventually(latest_recorded, what="the latest declared audience of adv-a")
