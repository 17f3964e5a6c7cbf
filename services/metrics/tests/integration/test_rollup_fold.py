"""Contributor rollups folded from deltas (0009): once each, corrections and moves included.

Ranked UTC days since 0014."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from chorus_metrics.aggregation.rollup_fold import fold_rollups
from chorus_metrics.ingest.model import Changes
from chorus_metrics.ingest.repository import apply_changes

from .conftest import Metrics

RANKED = (
    "SELECT grain, period_start, kind, scope, contributor, shares, clicks, reactions, "
    " engagement FROM contributor_rollups WHERE tenant_id = $1 AND (shares, clicks, "
    " reactions, comments, reshares) <> (0, 0, 0, 0, 0) ORDER BY 1, 2, 3, 4, 5"
)
# The same figures computed from the shares themselves.
FROM_SHARES = (
    "SELECT g.grain, date_trunc(g.grain, posted_at, 'UTC'), c.kind, c.scope, c.contributor, "
    " count(*), sum(clicks), sum(reactions), sum(clicks + reactions + comments + reshares) "
    "FROM shares CROSS JOIN (VALUES ('day'), ('week'), ('month'), ('year')) AS g(grain) "
    "CROSS JOIN LATERAL contributor_scopes(g.grain, advocate_id, network, team_ids) AS c "
    "WHERE tenant_id = $1 GROUP BY 1, 2, 3, 4, 5 "
    # The runs of a week's first or last k UTC days (0010), unfiltered.
    "UNION ALL SELECT 'days' || k, CASE WHEN dow <= k THEN week "
    " ELSE week + (7 - k) * interval '24 hours' END, c.kind, '', c.contributor, count(*), "
    " sum(clicks), sum(reactions), sum(clicks + reactions + comments + reshares) "
    "FROM (SELECT *, date_trunc('week', posted_at, 'UTC') AS week, "
    "  extract(isodow FROM posted_at AT TIME ZONE 'UTC') AS dow FROM shares) AS s "
    "CROSS JOIN generate_series(1, 3) AS k "
    "CROSS JOIN LATERAL (SELECT 'advocate', advocate_id UNION ALL "
    " SELECT 'team', t FROM unnest(team_ids) AS t) AS c(kind, contributor) "
    "WHERE tenant_id = $1 AND (dow <= k OR dow >= 8 - k) GROUP BY 1, 2, 3, 4, 5 "
    "ORDER BY 1, 2, 3, 4, 5"
)
# The shares ranking (0012): every ranked row's share count, kept apart.
SHARE_RANKS = (
    "SELECT grain, period_start, kind, scope, contributor, shares, xmin::text::bigint "
    "FROM contributor_share_ranks WHERE tenant_id = $1 ORDER BY 1, 2, 3, 4, 5"
)
ALL_RANKED = (
    "SELECT grain, period_start, kind, scope, contributor, shares FROM contributor_rollups "
    "WHERE tenant_id = $1 ORDER BY 1, 2, 3, 4, 5"
)
# fold_contributor_rollups()'s own lock: a test holding it keeps the background fold out.
FOLD_LOCK = (
    "SELECT pg_advisory_xact_lock(hashtext('chorus_metrics'), hashtext('contributor_rollups'))"
)


async def _change(conn: asyncpg.Connection, tenant: str, share: str, **kinds: int) -> None:
    changes = Changes()
    for kind, n in kinds.items():
        changes.of((tenant, share)).add(kind, n)
    async with conn.transaction():
        await apply_changes(conn, changes)


async def test_folds_apply_each_delta_once(metrics: Metrics, tenant: str) -> None:
    posted = datetime(2026, 3, 30, 23, 30, tzinfo=UTC)  # a Monday, near a month's end
    async with metrics.pool.acquire() as conn:
        # The fold's lock, held meanwhile, keeps the service's background fold out.
        async with metrics.pool.acquire() as folder, folder.transaction():
            await folder.execute(FOLD_LOCK)
            await conn.execute(
                "INSERT INTO shares (tenant_id, share_id, content_id, advocate_id, team_ids, "
                " network, posted_at) VALUES ($1, 's1', 'c1', 'adv-1', '{team-a,team-b}', "
                " 'linkedin', $2), ($1, 's2', 'c1', 'adv-1', '{team-a}', 'x', $3)",
                tenant,
                posted,
                posted + timedelta(days=9),
            )
            await _change(conn, tenant, "s1", clicks=3)
            await _change(conn, tenant, "s2", reactions=2)
            await _change(conn, tenant, "s1", clicks=-1)  # a late fraud verdict takes one back
            # A share moved to another week and month: taken back there, added here.
            await conn.execute(
                "UPDATE shares SET posted_at = posted_at + interval '40 days' "
                "WHERE tenant_id = $1 AND share_id = 's2'",
                tenant,
            )
            with pytest.raises(RuntimeError):  # a batch that fails leaves no delta behind
                async with conn.transaction():
                    await apply_changes(conn, _clicks(tenant, "s1", 100))
                    raise RuntimeError("batch failed")
            pending = await folder.fetchval(
                "SELECT count(*) FROM contributor_rollup_deltas WHERE tenant_id = $1", tenant
            )
            # Two shares added, three changes, the move's two (taken back, added again).
            assert pending == 7
            await folder.execute("SELECT fold_contributor_rollups()")
        expected = [tuple(r) for r in await conn.fetch(FROM_SHARES, tenant)]
        assert [tuple(r) for r in await conn.fetch(RANKED, tenant)] == expected
        assert any(r[4] == "adv-1" and r[6] == 2 for r in expected)  # 3 - 1 clicks
        share_ranks = await _share_ranks_match(conn, tenant)
        # A click moves no share count: its fold leaves the shares ranking untouched.
        async with metrics.pool.acquire() as folder, folder.transaction():
            await folder.execute(FOLD_LOCK)
            await _change(conn, tenant, "s1", clicks=5)
            await folder.execute("SELECT fold_contributor_rollups()")
        assert await conn.fetch(SHARE_RANKS, tenant) == share_ranks
        expected = [tuple(r) for r in await conn.fetch(FROM_SHARES, tenant)]
        assert [tuple(r) for r in await conn.fetch(RANKED, tenant)] == expected
        # Folding again (nothing new for this tenant) changes nothing.
        await fold_rollups(conn)
        assert [tuple(r) for r in await conn.fetch(RANKED, tenant)] == expected
        assert not await conn.fetchval(
            "SELECT count(*) FROM contributor_rollup_deltas WHERE tenant_id = $1", tenant
        )


async def _share_ranks_match(conn: asyncpg.Connection, tenant: str) -> list[asyncpg.Record]:
    """The shares ranking holds exactly contributor_rollups' rows and share counts."""
    share_ranks = await conn.fetch(SHARE_RANKS, tenant)
    assert [tuple(r)[:6] for r in share_ranks] == [
        tuple(r) for r in await conn.fetch(ALL_RANKED, tenant)
    ]
    assert share_ranks
    return share_ranks


def _clicks(tenant: str, share: str, n: int) -> Changes:
    changes = Changes()
    changes.of((tenant, share)).clicks += n
    return changes


async def test_a_fold_merges_one_days_deltas_into_the_same_rows(
    metrics: Metrics, tenant: str
) -> None:
    """Many deltas of one advocate's day (several shares, networks and teams, batches
    apart) fold into exactly the rows that the shares add up to, at a day's and a
    week's edges."""
    sunday_end = datetime(2026, 4, 5, 23, 59, 59, 999999, tzinfo=UTC)
    monday = sunday_end + timedelta(microseconds=1)
    shares = [
        ("s1", "adv-1", ["team-a"], "linkedin", sunday_end - timedelta(hours=23)),
        ("s2", "adv-1", ["team-a"], "linkedin", sunday_end),
        ("s3", "adv-1", ["team-a", "team-b"], "linkedin", sunday_end - timedelta(hours=1)),
        ("s4", "adv-1", ["team-a"], "x", sunday_end - timedelta(hours=2)),
        ("s5", "adv-1", ["team-a"], "linkedin", monday),
        ("s6", "adv-2", ["team-a"], "linkedin", sunday_end),
    ]
    async with metrics.pool.acquire() as conn:
        for share, advocate, teams, network, posted in shares:
            await conn.execute(
                "INSERT INTO shares (tenant_id, share_id, content_id, advocate_id, team_ids, "
                " network, posted_at) VALUES ($1, $2, 'c1', $3, $4, $5, $6)",
                tenant,
                share,
                advocate,
                teams,
                network,
                posted,
            )
        await fold_rollups(conn)
        # The fold's own lock, held meanwhile: the service's background fold cannot
        # take this tenant's deltas before the one folding them all at once below.
        async with metrics.pool.acquire() as folder, folder.transaction():
            await folder.execute(FOLD_LOCK)
            for round_ in range(3):  # three batches: three deltas per share
                for i, (share, *_) in enumerate(shares):
                    await _change(conn, tenant, share, clicks=i + round_ + 1, reactions=round_)
            await _change(conn, tenant, "s2", clicks=-2)  # a correction among them
            pending = await folder.fetchval(
                "SELECT count(*) FROM contributor_rollup_deltas WHERE tenant_id = $1", tenant
            )
            assert pending == 3 * len(shares) + 1
            # Other tenants' deltas may be folded too.
            assert await folder.fetchval("SELECT fold_contributor_rollups()") >= pending
        expected = [tuple(r) for r in await conn.fetch(FROM_SHARES, tenant)]
        assert [tuple(r) for r in await conn.fetch(RANKED, tenant)] == expected
        await _share_ranks_match(conn, tenant)
        # adv-1's Sunday (s1-s4: 6 + 7 + 12 + 15 clicks) and Monday (s5: 18) are in
        # different weeks; merged across networks and teams, not across advocates.
        weeks = {
            r[1]: r[6]
            for r in expected
            if r[:4] == ("week", r[1], "advocate", "") and r[4] == "adv-1"
        }
        assert weeks == {
            datetime(2026, 3, 30, tzinfo=UTC): 40,
            datetime(2026, 4, 6, tzinfo=UTC): 18,
        }
