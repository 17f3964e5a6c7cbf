"""The judge's history probes stay one index lookup per probe without fresh statistics.

A clicks table that grew faster than autovacuum analyses it (a new deployment, a
burst) has no usable statistics: the planner's estimates all bottom out at one row
and the smallest index wins ties. The visitor probe was then planned on
`(tenant, occurred_at)`, scanning the tenant's whole unique window once per probe
(seconds per batch at 100k clicks). A temporary `clicks` (never analysed; autovacuum
skips temporary tables) shadows the real one on this connection to recreate that.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import asyncpg
from chorus_metrics.ingest import clicks_repository as repo

from .conftest import Metrics


class _Recorder:
    """An asyncpg connection's `fetch`, recording each statement for EXPLAIN."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn
        self.statements: list[tuple[str, Sequence[Any]]] = []

    async def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        self.statements.append((sql, args))
        return list(await self.conn.fetch(sql, *args))


def _index_scans(plan: dict[str, Any]) -> list[str]:
    found = [plan["Index Name"]] if "Index Name" in plan else []
    for child in plan.get("Plans", []):
        found += _index_scans(child)
    return found


async def test_visitor_probes_use_the_visitor_index_on_an_unanalysed_table(
    metrics: Metrics, tenant: str
) -> None:
    start = datetime(2026, 11, 1, tzinfo=UTC)
    async with metrics.pool.acquire() as conn, conn.transaction():
        await conn.execute("CREATE TEMP TABLE clicks (LIKE clicks INCLUDING ALL) ON COMMIT DROP")
        # 20,000 clicks within 20 s on 2,000 shares: one unique window holds them all.
        await conn.execute(
            "INSERT INTO clicks (tenant_id, click_id, share_id, occurred_at, visitor_hash, "
            " ip_prefix, user_agent, status) "
            "SELECT $1, gen_random_uuid(), 's-' || (i % 2000), "
            " $2::timestamptz + i * interval '1 ms', "
            " md5(i::text), '10.0.' || (i % 250) || '.0/24', 'Mozilla/5.0', 'valid' "
            "FROM generate_series(1, 20000) AS i",
            tenant,
            start,
        )
        window = timedelta(hours=24)
        probes = [
            (f"s-{i % 2000}", f"{uuid4().hex}", start - window, start + window) for i in range(500)
        ]
        recorder = _Recorder(conn)
        found = await repo.visitor_history(recorder, tenant, probes)  # type: ignore[arg-type]
        assert found == []  # unknown visitors: nothing in their history
        prefixes = [(s, "10.0.1.0/24", lo, hi) for s, _v, lo, hi in probes]
        await repo.prefix_history(recorder, tenant, prefixes)  # type: ignore[arg-type]
        # Each probe looks up its own (share, visitor) or (share, ...) entries: never the
        # (tenant, occurred_at) index, nor the primary key, which read the whole window.
        for (sql, args), key in zip(recorder.statements, ("visitor_hash", "share_id"), strict=True):
            plan = await conn.fetchval("EXPLAIN (FORMAT JSON) " + sql, *args)  # json codec
            used = _index_scans(plan[0]["Plan"])
            assert used, plan
            assert all(key in name for name in used), used
