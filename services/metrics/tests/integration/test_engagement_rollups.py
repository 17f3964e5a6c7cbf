"""Engagement rollups (0013): every verdict counted once, folded or not, in any zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from uuid import uuid4

import asyncpg
import pytest
from chorus_metrics.aggregation.rollup_fold import fold_rollups
from chorus_metrics.ingest.clicks_repository import revoke
from chorus_metrics.kpis import service as kpis
from chorus_metrics.kpis.query import Bucket, KpiQuery
from chorus_metrics.kpis.repository import snapshot

from .conftest import Metrics

FOLD_LOCK = (
    "SELECT pg_advisory_xact_lock(hashtext('chorus_metrics'), hashtext('engagement_rollups'))"
)
# The rollups as they must be: every grain recomputed from the raw rows.
FROM_RAW = (
    "SELECT g.grain, CASE g.grain WHEN 'minutes15' THEN date_bin('15 minutes', e.at, "
    " '2000-01-01Z') ELSE date_trunc(g.grain, e.at, 'UTC') END, s.network, e.kind, "
    " e.outcome, sum(e.n) AS n "
    "FROM (SELECT tenant_id, share_id, occurred_at AS at, 'clicks' AS kind, "
    "  coalesce(reason, '') AS outcome, 1 AS n FROM clicks WHERE status <> 'pending' "
    " UNION ALL SELECT tenant_id, share_id, occurred_at, kind, '', applied FROM reported "
    "  WHERE status = 'valid') AS e "
    "JOIN shares s ON s.tenant_id = e.tenant_id AND s.share_id = e.share_id "
    "CROSS JOIN (VALUES ('minutes15'), ('hour'), ('day'), ('month')) AS g(grain) "
    "WHERE e.tenant_id = $1 GROUP BY 1, 2, 3, 4, 5 HAVING sum(e.n) <> 0 ORDER BY 1, 2, 3, 4, 5"
)
ROLLED = (
    "SELECT grain, period_start, network, kind, outcome, n FROM engagement_rollups "
    "WHERE tenant_id = $1 AND n <> 0 ORDER BY 1, 2, 3, 4, 5"
)
T0 = datetime(2026, 3, 2, tzinfo=UTC)


async def _click(
    conn: asyncpg.Connection, tenant: str, share: str, at: datetime, status: str, reason: str | None
) -> str:
    click_id = str(uuid4())
    await conn.execute(
        "INSERT INTO clicks (tenant_id, click_id, share_id, occurred_at, visitor_hash, status, "
        " reason) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        tenant,
        click_id,
        share,
        at,
        uuid4().hex,
        status,
        reason,
    )
    return click_id


async def _reported(
    conn: asyncpg.Connection, tenant: str, share: str | None, at: datetime, n: int, status: str
) -> str:
    source_event_id = uuid4().hex
    await conn.execute(
        "INSERT INTO reported (tenant_id, source, source_event_id, share_id, network, kind, "
        " count, cumulative, applied, status, occurred_at) "
        "VALUES ($1, 'collector', $2, $3, 'linkedin', 'reactions', $4, false, $5, $6, $7)",
        tenant,
        source_event_id,
        share,
        n,
        n if status == "valid" else 0,
        status,
        at,
    )
    return source_event_id


async def _reports(conn: asyncpg.Connection, tenant: str) -> list[object]:
    """Traffic and engagement per network over a Kolkata week by day (half-hour edges:
    quarter hours), a UTC quarter by month and all time (raw edges), as the API reads
    them."""
    out: list[object] = []
    for q in (
        KpiQuery(tenant, "Asia/Kolkata", date(2026, 3, 1), date(2026, 3, 7), bucket=Bucket.DAY),
        KpiQuery(tenant, "UTC", date(2026, 1, 1), date(2026, 3, 31), bucket=Bucket.MONTH),
        KpiQuery(tenant, "UTC", network="x"),
    ):
        async with snapshot(conn):
            out.append((await kpis.traffic(conn, q)).rows)
            out.append((await kpis.engagement_per_network(conn, q)).rows)
    return out


async def test_verdicts_count_once_folded_or_not(metrics: Metrics, tenant: str) -> None:
    async with metrics.pool.acquire() as conn:
        await conn.execute(
            "INSERT INTO shares (tenant_id, share_id, content_id, advocate_id, team_ids, "
            " network, posted_at) VALUES ($1, 's1', 'c1', 'adv-1', '{}', 'linkedin', $2), "
            " ($1, 's2', 'c1', 'adv-2', '{}', 'x', $2)",
            tenant,
            T0 - timedelta(days=3),
        )
        async with metrics.pool.acquire() as folder, folder.transaction():
            # The fold's lock, held: the service's background fold stays out meanwhile.
            await folder.execute(FOLD_LOCK)
            valid = [
                await _click(conn, tenant, "s1", T0 + timedelta(hours=h, minutes=40), "valid", None)
                for h in (0, 5, 18, 19, 30)
            ]
            await _click(conn, tenant, "s2", T0 + timedelta(hours=18, minutes=10), "valid", None)
            await _click(
                conn, tenant, "s2", T0 + timedelta(hours=18, minutes=20), "rejected", "bot"
            )
            held = await _click(conn, tenant, "s3", T0 + timedelta(hours=7), "pending", None)
            await _reported(conn, tenant, "s1", T0 + timedelta(hours=18, minutes=45), 4, "valid")
            waiting = await _reported(conn, tenant, None, T0 + timedelta(hours=2), 6, "pending")
            with pytest.raises(RuntimeError):  # a failed batch leaves no delta behind
                async with conn.transaction():
                    await _click(conn, tenant, "s1", T0, "valid", None)
                    raise RuntimeError("batch failed")
            unfolded = await _reports(conn, tenant)
            traffic = unfolded[0]
            assert sum(r["valid_clicks"] for r in traffic) == 6
            assert sum(r["rejected_bot"] for r in traffic) == 1
            assert sum(r["unique_visitors"] for r in traffic) == 6
            # The held click's share arrives and it is judged; a late burst verdict takes a
            # valid click back; the held report is matched.
            await conn.execute(
                "INSERT INTO shares (tenant_id, share_id, content_id, advocate_id, team_ids, "
                " network, posted_at) VALUES ($1, 's3', 'c1', 'adv-1', '{}', 'x', $2)",
                tenant,
                T0,
            )
            await conn.execute(
                "UPDATE clicks SET status = 'valid' WHERE tenant_id = $1 AND click_id = $2",
                tenant,
                held,
            )
            assert await revoke(conn, tenant, [valid[2]], "burst") == ["s1"]
            await conn.execute(
                "UPDATE reported SET share_id = 's1', status = 'valid', applied = count "
                "WHERE tenant_id = $1 AND source_event_id = $2",
                tenant,
                waiting,
            )
            unfolded = await _reports(conn, tenant)
        await fold_rollups(conn)
        assert await _reports(conn, tenant) == unfolded
        assert [tuple(r) for r in await conn.fetch(ROLLED, tenant)] == [
            tuple(r) for r in await conn.fetch(FROM_RAW, tenant)
        ]
        # Deleted rows are taken back (nothing deletes them today; a purge would).
        await conn.execute(
            "DELETE FROM clicks WHERE tenant_id = $1 AND click_id = $2", tenant, valid[0]
        )
        await conn.execute(
            "DELETE FROM reported WHERE tenant_id = $1 AND source_event_id = $2", tenant, waiting
        )
        await fold_rollups(conn)
        assert [tuple(r) for r in await conn.fetch(ROLLED, tenant)] == [
            tuple(r) for r in await conn.fetch(FROM_RAW, tenant)
        ]
        kolkata_days = unfolded[0]
        assert kolkata_days == [
            # 2 Mar IST = [1 Mar 18:30Z, 2 Mar 18:30Z): the clicks at 00:40, 05:40, 07:00
            # (held, then valid) and 18:10Z (s2); 18:20Z a bot; 18:40Z the burst, off.
            _traffic("2026-03-02", valid=4, bot=1),
            _traffic("2026-03-03", valid=2, burst=1),  # 19:40Z, and 06:40Z next day
        ]
        quarter = unfolded[3]
        assert quarter == [
            {"bucket": "2026-03-01", "network": "linkedin", "clicks": 4, "reactions": 10,
             "comments": 0, "reshares": 0, "impressions": 0},
            {"bucket": "2026-03-01", "network": "x", "clicks": 2, "reactions": 0,
             "comments": 0, "reshares": 0, "impressions": 0},
        ]  # fmt: skip


def _traffic(bucket: str, *, valid: int, bot: int = 0, burst: int = 0) -> dict[str, object]:
    return {
        "bucket": bucket,
        "valid_clicks": valid,
        "unique_visitors": valid,
        "rejected_bot": bot,
        "rejected_self_click": 0,
        "rejected_burst": burst,
        "rejected_duplicate": 0,
    }
