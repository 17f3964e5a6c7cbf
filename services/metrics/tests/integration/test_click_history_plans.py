"""The judge's history probes stay one index range per probe without fresh statistics.

Statistics lag a fast-growing clicks table (a new deployment, a burst) and never
know a share that went viral since the last ANALYZE. The planner's estimates then
bottom out at one row for every index and ties went to the wrong one: the visitor
probe scanned the tenant's whole unique window per probe through `(tenant,
occurred_at)`, the prefix probe every click of the share through the visitor index
(seconds per batch at 100k clicks). A temporary `clicks` (autovacuum skips
temporary tables, so its statistics are what the test makes them) shadows the real
one on this connection to recreate both states.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import asyncpg
import pytest
from chorus_metrics.ingest import clicks_repository as repo

from .conftest import Metrics

START = datetime(2026, 11, 1, tzinfo=UTC)
INSERT = (
    "INSERT INTO clicks (tenant_id, click_id, share_id, occurred_at, visitor_hash, "
    " ip_prefix, user_agent, status) "
    "SELECT $1, gen_random_uuid(), $2 || (i % $3), $4::timestamptz + i * interval '1 ms', "
    " md5(i::text), '10.0.' || (i % 250) || '.0/24', 'Mozilla/5.0', 'valid' "
    "FROM generate_series(1, $5) AS i"
)


class _Recorder:
    """An asyncpg connection's `fetch`, recording each statement for EXPLAIN."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn
        self.statements: list[tuple[str, Sequence[Any]]] = []

    async def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        self.statements.append((sql, args))
        return list(await self.conn.fetch(sql, *args))


def _index_scans(plan: dict[str, Any]) -> list[tuple[str, str]]:
    """(index, index condition) of every index scan in `plan`."""
    found = [(plan["Index Name"], plan.get("Index Cond", ""))] if "Index Name" in plan else []
    for child in plan.get("Plans", []):
        found += _index_scans(child)
    return found


@pytest.mark.parametrize("statistics", ["never analysed", "analysed before hot shares"])
async def test_history_probes_use_their_own_index_without_fresh_statistics(
    metrics: Metrics, tenant: str, statistics: str
) -> None:
    async with metrics.pool.acquire() as conn, conn.transaction():
        await conn.execute("CREATE TEMP TABLE clicks (LIKE clicks INCLUDING ALL) ON COMMIT DROP")
        await conn.execute(INSERT, tenant, "s-", 2000, START, 2000)
        if statistics != "never analysed":
            await conn.execute("ANALYZE clicks")
        # Then 40,000 clicks within 40 s on 20 shares the statistics have never seen.
        await conn.execute(INSERT, tenant, "hot-", 20, START, 40_000)
        hot = [f"hot-{i % 20}" for i in range(500)]
        day, minute = timedelta(hours=24), timedelta(seconds=60)
        visitors = [(s, uuid4().hex, START - day, START + day) for s in hot]
        prefixes = [(s, "10.0.1.0/24", START - minute, START) for s in hot]
        recorder = _Recorder(conn)
        assert await repo.visitor_history(recorder, tenant, visitors) == []  # type: ignore[arg-type]
        await repo.prefix_history(recorder, tenant, prefixes)  # type: ignore[arg-type]
        for (sql, args), column in zip(
            recorder.statements, ("visitor_hash", "ip_prefix"), strict=True
        ):
            plan = await conn.fetchval("EXPLAIN (FORMAT JSON) " + sql, *args)  # json codec
            used = _index_scans(plan[0]["Plan"])
            assert used, plan
            # The (tenant, share, <probe column>, occurred_at) index, from the window's
            # start: never the time index, the primary key or the other probe's index.
            assert all(column in name for name, _cond in used), (statistics, used)
            assert all("occurred_at >" in cond for _name, cond in used), (statistics, used)
