"""engagement.updated: bounded rate per share, no lost delta, safe with several flushers."""

from __future__ import annotations

import asyncio
import itertools
import json
import random
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from chorus_devstack.waiting import eventually
from chorus_events.contracts import CLICK_RECORDED, SHARE_POSTED
from chorus_metrics.aggregation.flusher import flush_once
from chorus_metrics.aggregation.rollup_fold import fold_rollups
from chorus_metrics.ingest.model import Changes
from chorus_metrics.ingest.repository import apply_changes

from .conftest import Metrics, click, share_posted


async def test_a_viral_share_gets_at_most_one_event_per_second(
    metrics: Metrics, tenant: str
) -> None:
    await metrics.produce(SHARE_POSTED, share_posted(tenant, "shr-viral"))
    started = datetime.now(UTC)
    for _ in range(6):
        await metrics.produce(CLICK_RECORDED, *(click(tenant, "shr-viral") for _ in range(60)))
        await asyncio.sleep(0.25)

    async def all_counted() -> bool:
        latest = metrics.updates.latest(tenant, "shr-viral")
        return latest is not None and latest.totals.clicks == 360

    await eventually(all_counted, what="360 clicks in engagement.updated")
    # Kafka delivery is at-least-once (a relay retry can publish an event twice);
    # consumers drop repeats by event id, here equivalently by sequence.
    events = sorted({e.sequence: e for e in metrics.updates.of(tenant)}.values(),
                    key=lambda e: e.sequence)  # fmt: skip
    elapsed = (datetime.now(UTC) - started).total_seconds()
    assert len(events) <= elapsed / 1.0 + 1
    assert [e.sequence for e in events] == list(range(1, len(events) + 1))
    assert sum(e.deltas.clicks for e in events) == 360
    for before, after in itertools.pairwise(events):
        assert (after.window_end - before.window_end).total_seconds() >= 0.99


async def test_concurrent_flushers_never_lose_or_repeat_a_delta(
    metrics: Metrics, tenant: str
) -> None:
    shares = [f"shr-{i}" for i in range(120)]
    async with metrics.pool.acquire() as conn:
        await conn.executemany(
            "INSERT INTO shares (tenant_id, share_id, content_id, advocate_id, network, posted_at)"
            " VALUES ($1, $2, 'cnt', 'adv-' || $3, 'linkedin', now())",
            [(tenant, s, str(i % 7)) for i, s in enumerate(shares)],
        )
    rnd = random.Random(3)
    expected: dict[str, int] = defaultdict(int)
    stop = asyncio.Event()

    async def flusher() -> None:
        while not stop.is_set():
            await flush_once(metrics.pool, min_interval=0.0, limit=25)

    async def ingest() -> None:
        for _ in range(40):
            changes = Changes()
            for share in rnd.sample(shares, 30):
                n = rnd.randint(1, 5)
                changes.of((tenant, share)).clicks += n
                expected[share] += n
            async with metrics.pool.acquire() as conn, conn.transaction():
                await apply_changes(conn, changes)
            await asyncio.sleep(0.01)

    workers = [asyncio.create_task(flusher()) for _ in range(2)]
    await ingest()

    async def drained() -> bool:
        dirty = await metrics.fetchval(
            "SELECT count(*) FROM share_emissions WHERE tenant_id = $1 AND dirty_since IS NOT NULL",
            tenant,
        )
        return bool(dirty == 0)

    await eventually(drained, what="every dirty share flushed")
    stop.set()
    await asyncio.gather(*workers)
    # The KPI rollups, maintained by triggers through ingestion and flushes, still
    # add up to the shares they summarise.
    rollups = await metrics.pool.fetch(
        "SELECT grain, advocate_id, sum(shares) AS n, sum(clicks) AS clicks "
        "FROM share_rollups WHERE tenant_id = $1 GROUP BY 1, 2 ORDER BY 1, 2",
        tenant,
    )
    from_shares = await metrics.pool.fetch(
        "SELECT g.grain, advocate_id, count(*) AS n, sum(clicks) AS clicks FROM shares "
        "CROSS JOIN (VALUES ('day'), ('month')) AS g(grain) WHERE tenant_id = $1 "
        "GROUP BY 1, 2 ORDER BY 1, 2",
        tenant,
    )
    assert [tuple(r) for r in rollups] == [tuple(r) for r in from_shares]
    # So do the ranked contributor rollups, in every scope, once their deltas are folded.
    async with metrics.pool.acquire() as conn:
        await fold_rollups(conn)
    ranked = await metrics.pool.fetch(
        "SELECT grain, kind, scope, contributor, sum(shares), sum(clicks), sum(engagement) "
        "FROM contributor_rollups WHERE tenant_id = $1 GROUP BY 1, 2, 3, 4 "
        "HAVING sum(shares) <> 0 ORDER BY 1, 2, 3, 4",
        tenant,
    )
    from_shares = await metrics.pool.fetch(
        "SELECT g.grain, c.kind, c.scope, c.contributor, count(*), sum(clicks), "
        " sum(clicks + reactions + comments + reshares) "
        "FROM shares CROSS JOIN (VALUES ('day'), ('week'), ('month'), ('year')) AS g(grain) "
        "CROSS JOIN LATERAL contributor_scopes(g.grain, advocate_id, network, team_ids) AS c "
        "WHERE tenant_id = $1 GROUP BY 1, 2, 3, 4 "
        # The runs of a week's first or last k UTC days (0010), unfiltered.
        "UNION ALL SELECT 'days' || k, c.kind, '', c.contributor, count(*), sum(clicks), "
        " sum(clicks + reactions + comments + reshares) "
        "FROM (SELECT *, extract(isodow FROM posted_at AT TIME ZONE 'UTC') AS dow "
        " FROM shares) AS s CROSS JOIN generate_series(1, 3) AS k "
        "CROSS JOIN LATERAL (SELECT 'advocate', advocate_id UNION ALL "
        " SELECT 'team', t FROM unnest(team_ids) AS t) AS c(kind, contributor) "
        "WHERE tenant_id = $1 AND (dow <= k OR dow >= 8 - k) GROUP BY 1, 2, 3, 4 "
        "ORDER BY 1, 2, 3, 4",
        tenant,
    )
    assert ranked and [tuple(r) for r in ranked] == [tuple(r) for r in from_shares]
    rows = await metrics.pool.fetch(
        "SELECT value FROM outbox WHERE topic = 'engagement.updated' AND key LIKE $1",
        f"{tenant}:%".encode(),
    )
    by_share: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        event = json.loads(row["value"])
        by_share[event["share_id"]].append(event)
    for share, total in expected.items():
        events = sorted(by_share[share], key=lambda e: int(e["sequence"]))
        assert [e["sequence"] for e in events] == list(range(1, len(events) + 1)), share
        assert sum(e["deltas"]["clicks"] for e in events) == total
        assert events[-1]["totals"]["clicks"] == total


async def test_reach_calculator_returns_figures_and_formula(metrics: Metrics, tenant: str) -> None:
    response = await metrics.client.post(
        "/v1/metrics/reach-calculator",
        json={
            "head_count": 1000,
            "participation_rate": 0.3,
            "average_network_size": 500,
            "shares_per_week": 2,
            "engagement_rate": 0.02,
            "cpm": 8,
            "currency": "EUR",
        },
        headers=metrics.admin(tenant),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["figures"]["weekly_reach"] == 300_000
    assert body["figures"]["yearly_media_value"] == 124_800
    assert body["formula"]["weekly_reach"] == (
        "weekly_shares * average_network_size * visibility_rate"
    )
    assert body["measurement"] == "estimated"
    assert body["currency"] == "EUR"
