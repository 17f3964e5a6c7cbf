"""SQL of the KPIs. Fragments are constants of this module; every value is bound.

Time attribution: figures about shares (top contributors, reach, adoption,
share rate, caption hashtags) fall in the period and bucket of the share's
`posted_at`, with the engagement those shares earned to date; figures about
engagement (per network, traffic, sentiment, comment hashtags) fall in the
period and bucket of the engagement itself.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import asyncpg

from chorus_metrics.kpis.query import (
    Bucket,
    KpiQuery,
    Sql,
    bucket_days,
    bucket_expr,
    next_start,
    period,
    share_filters,
)
from chorus_metrics.kpis.rollup import (
    Grain,
    Period,
    Piece,
    Ranked,
    engagement_pieces,
    periods,
    ranked,
    unranked,
)

# ruff: noqa: S608  (SQL is assembled from the constant fragments above; values are bound)

_SPANS = {
    "shares": "SELECT min(posted_at), max(posted_at) FROM shares WHERE tenant_id = $1",
    "clicks": "SELECT min(occurred_at), max(occurred_at) FROM clicks WHERE tenant_id = $1",
    "reported": "SELECT min(occurred_at), max(occurred_at) FROM reported WHERE tenant_id = $1",
    "engagement": "SELECT least(c.lo, r.lo), greatest(c.hi, r.hi) FROM "
    "(SELECT min(occurred_at) AS lo, max(occurred_at) AS hi FROM clicks WHERE tenant_id = $1) c, "
    "(SELECT min(occurred_at) AS lo, max(occurred_at) AS hi FROM reported WHERE tenant_id = $1) r",
}


async def _days(conn: asyncpg.Connection, q: KpiQuery, table: str) -> list[date]:
    """Bucket start days covering the period, or the tenant's data when it is open-ended."""
    if q.bucket is Bucket.NONE:
        return []
    first = q.start
    last = q.end - timedelta(microseconds=1) if q.end else None
    if first is None or last is None:
        row = await conn.fetchrow(_SPANS[table], q.tenant_id)
        assert row is not None
        first = first or row[0]
        last = last or row[1]
    if first is None or last is None or last < first:
        return []  # no data in the period: no row will need a bucket
    return bucket_days(q, first, last)


@contextlib.asynccontextmanager
async def snapshot(conn: asyncpg.Connection) -> AsyncIterator[asyncpg.Connection]:
    """A read-only snapshot: every query of one report sees the same data. Reports
    aggregate up to a tenant's whole history, so they get enough memory to hash
    it without spilling to disk."""
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        await conn.execute("SET LOCAL work_mem = '64MB'")
        # Reports are short aggregations: once a big tenant's cost estimates pass
        # jit_above_cost, compiling them would cost more than it saves.
        await conn.execute("SET LOCAL jit = off")
        # Planned for each report's own bounds and array sizes: cached generic plans of
        # the ranked query were seen to run for seconds instead of milliseconds.
        await conn.execute("SET LOCAL plan_cache_mode = force_custom_plan")
        yield conn


async def _bucket_ranges(
    conn: asyncpg.Connection, q: KpiQuery, span: str = _SPANS["shares"]
) -> list[tuple[date | None, datetime, datetime]]:
    """The report's period (bounded by the tenant's data, `span`, when open-ended), cut
    into buckets: (label = the bucket's first local day, or None; start; end)."""
    start, end = q.start, q.end
    if start is None or end is None:
        row = await conn.fetchrow(span, q.tenant_id)
        assert row is not None
        if row[0] is None:
            return []
        start = start or row[0]
        end = end or row[1] + timedelta(microseconds=1)
    assert start is not None and end is not None
    if end <= start:
        return []
    if q.bucket is Bucket.NONE:
        return [(None, start, end)]
    zone = ZoneInfo(q.time_zone)
    out: list[tuple[date | None, datetime, datetime]] = []
    for day in bucket_days(q, start, end - timedelta(microseconds=1)):
        lo = max(start, datetime.combine(day, time.min, zone))
        hi = min(end, datetime.combine(next_start(day, q.bucket), time.min, zone))
        out.append((day, lo, hi))
    return out


async def top_contributors(
    conn: asyncpg.Connection, q: KpiQuery, *, by_team: bool, order: str, limit: int
) -> list[asyncpg.Record]:
    """Per bucket, contributors ranked by shares or engagement.

    A bucket that is about one UTC week, month or year, or the first or last 1-3 UTC
    days of a week (a partial week, 0010), reads that period's ranked
    `contributor_rollups` plus its slivers; any other sums `share_rollups` (UTC days
    and months) and raw shares at the edges (see `rollup.py`); both in one query
    (`_ranked_query`). Campaign and advocate filters, and team filters with buckets
    of the second kind, read the shares.
    """
    if q.campaign or q.advocate:
        # Campaigns vary per share, so rollups do not keep them; an advocate is a
        # small slice the shares' advocate index finds directly.
        return await _top_contributors_from_shares(
            conn, q, by_team=by_team, order=order, limit=limit
        )
    buckets: list[tuple[date | None, datetime, datetime, Ranked]] = []
    scope = _scope(q, by_team)
    for bucket, lo, hi in await _bucket_ranges(conn, q):
        period_ = ranked(lo, hi, four_days_as_run=not by_team and order == "shares")
        # Week-edge runs, weeks and months are ranked unfiltered only (0006, 0010).
        if period_ is None or (period_.grain is not Period.YEAR and scope):
            period_ = unranked(lo, hi)
        buckets.append((bucket, lo, hi, period_))
    if q.team and any(r.grain is None for *_, r in buckets):
        # A team is a small slice: its shares (GIN index) beat a pass over every
        # advocate's rollup rows of a partial bucket.
        return await _top_contributors_from_shares(
            conn, q, by_team=by_team, order=order, limit=limit
        )
    if not buckets:
        return []
    return await _top_from_ranked(conn, q, buckets, by_team=by_team, order=order, limit=limit)


def _contributions(
    sql: Sql,
    q: KpiQuery,
    tenant: str,
    pieces_cte: str,
    key: str,
    *,
    shared_raw: bool,
    teams: bool,
    runs: bool = False,
) -> str:
    """SQL of the signed contributions of rollup pieces (`pieces_cte`: key, grain,
    t_from, t_to, sign): one row per rollup row or raw share, with its figures and
    its piece's sign.
    `shared_raw`: some raw pieces cover the same range (read it once for all).
    `teams`: whether the rows carry their teams (team rankings); else NULL arrays
    (every row of a few thousand no longer copies an array through each step)."""

    # Spelled as before 0010 when no run is among the pieces: same estimates, same plan.
    rolled_grains = "p.grain IN ('day', 'month')" if runs else "p.grain <> 'raw'"

    def team_ids(alias: str) -> str:
        return f"{alias}.team_ids" if teams else "NULL::text[]"

    rolled = Sql(sql.args)
    share_filters(rolled, q, "r", tenant=tenant, campaign=False)
    raw = Sql(sql.args)
    share_filters(raw, q, "s", tenant=tenant)
    raw_rows = (
        f" SELECT p.{key}, s.advocate_id, {team_ids('s')}, p.sign, (p.sign * s.clicks)::int, "
        f"  (p.sign * s.reactions)::int, (p.sign * s.comments)::int, "
        f"  (p.sign * s.reshares)::int, p.sign "
    )
    if shared_raw:
        # A sliver shared by two buckets (one's end is the next one's start) is read
        # once, then given to each of its pieces. Materialised, so not worth it when
        # no range repeats (a year by day: a whole raw day per bucket).
        with_raw = (
            f" WITH raw AS MATERIALIZED ("
            f"  SELECT u.t_from, u.t_to, s.advocate_id, {team_ids('s')} AS team_ids, s.clicks, "
            f"   s.reactions, "
            f"   s.comments, s.reshares "
            f"  FROM (SELECT DISTINCT t_from, t_to FROM {pieces_cte} WHERE grain = 'raw') AS u "
            f"  CROSS JOIN LATERAL (SELECT * FROM shares s WHERE s.posted_at >= u.t_from "
            f"   AND s.posted_at < u.t_to AND {raw.condition} OFFSET 0) AS s"
            f" ) "
        )
        raw_rows += (
            f" FROM raw s JOIN {pieces_cte} p "
            f"  ON p.grain = 'raw' AND p.t_from = s.t_from AND p.t_to = s.t_to"
        )
    else:
        with_raw = ""
        raw_rows += (
            f" FROM {pieces_cte} p CROSS JOIN LATERAL (SELECT * FROM shares s "
            f"  WHERE s.posted_at >= p.t_from AND s.posted_at < p.t_to AND {raw.condition} "
            f"  OFFSET 0) AS s "
            f" WHERE p.grain = 'raw'"
        )
    return (
        f"{with_raw}"
        # Integers, not bigint: sum(int) adds in int8, sum(bigint) in numeric (slower);
        # one rollup row (an advocate's day or month) is far below 2^31 per figure.
        f" SELECT p.{key}, r.advocate_id, {team_ids('r')}, (p.sign * r.shares)::int AS shares, "
        f"  (p.sign * r.clicks)::int AS clicks, (p.sign * r.reactions)::int AS reactions, "
        f"  (p.sign * r.comments)::int AS comments, (p.sign * r.reshares)::int AS reshares, "
        f"  p.sign "
        # One rollup period per piece row, read by a primary-key lookup per row
        # (OFFSET 0 keeps the subquery per row; joined, the planner scans the table).
        f" FROM {pieces_cte} p CROSS JOIN LATERAL (SELECT * FROM share_rollups r "
        f"  WHERE r.grain = p.grain AND r.period_start = p.t_from AND {rolled.condition} "
        f"  OFFSET 0) AS r "
        # (Runs taken away from a week are looked up apart, see _ranked_query.)
        f" WHERE {rolled_grains} "
        f" UNION ALL {raw_rows}"
    )


def _bind_pieces(sql: Sql, part: list[tuple[int, Piece]]) -> str:
    """Bound arrays (idx, grain, t_from, t_to, sign) of pieces, for unnest()."""
    columns: list[list[object]] = [[], [], [], [], []]
    for i, p in part:
        for column, value in zip(columns, (i, p.grain.value, p.start, p.end, p.sign), strict=True):
            column.append(value)
    types = ("int", "text", "timestamptz", "timestamptz", "int")
    return ", ".join(f"{sql.bind(c)}::{t}[]" for c, t in zip(columns, types, strict=True))


def _shared_raw(pieces_: list[tuple[int, Piece]]) -> bool:
    """Whether two raw pieces cover the same range."""
    ranges = [(p.start, p.end) for _, p in pieces_ if p.grain is Grain.RAW]
    return len(set(ranges)) < len(ranges)


def _scope(q: KpiQuery, by_team: bool) -> str:
    """The `contributor_rollups.scope` holding the report's filters (see 0006)."""
    network = f"n:{q.network}" if q.network else ""
    if q.team and not by_team:
        return f"t:{q.team}|{network}" if network else f"t:{q.team}"
    return network


_RUN_GRAINS = (Grain.RUN1, Grain.RUN2, Grain.RUN3)
# Depth of the first read of a ranked period, per bucket (x limit; teams are few, so
# their first read is usually all of them); buckets whose reads did not settle their
# top are read again 8x deeper, up to _MAX_DEPTH rows, then left to the generic path.
_FIRST_DEPTH = 8
_FIRST_DEPTH_TEAMS = 32
_DEEPER = 8
_MAX_DEPTH = 4096
# A read settles only when at most this many x limit unread contributors of the
# slivers are left to look up one by one; else a deeper read is cheaper.
_LOOKUPS = 40


async def _top_from_ranked(
    conn: asyncpg.Connection,
    q: KpiQuery,
    buckets: list[tuple[date | None, datetime, datetime, Ranked]],
    *,
    by_team: bool,
    order: str,
    limit: int,
) -> list[asyncpg.Record]:
    """Top `limit` per bucket (label, start, end, how it is read), in bucket order: see
    `_ranked_query`. A bucket whose ranked period does not settle its top within
    `_MAX_DEPTH` rows is read again without it."""
    first = max(1, min((_FIRST_DEPTH_TEAMS if by_team else _FIRST_DEPTH) * limit, _MAX_DEPTH))
    reads = {i: (r, first) for i, (*_, r) in enumerate(buckets)}
    out: list[tuple[int, int, asyncpg.Record]] = []
    while reads:
        todo = sorted(reads)
        sql, args = _ranked_query(
            q, [(buckets[i][0], reads[i][0]) for i in todo], [reads[i][1] for i in todo],
            by_team=by_team, order=order, limit=limit,
        )  # fmt: skip
        again: dict[int, tuple[Ranked, int]] = {}
        for row in await conn.fetch(sql, *args):
            i = todo[row["idx"] - 1]
            if row["contributor"] is not None:
                out.append((i, row["rank"], row))
                continue
            read, depth = reads[i]
            if depth >= _MAX_DEPTH:
                again[i] = (unranked(buckets[i][1], buckets[i][2]), first)
            else:
                again[i] = (read, min(depth * _DEEPER, _MAX_DEPTH))
        reads = again
    out.sort(key=lambda x: (x[0], x[1]))
    return [row for *_, row in out]


def _ranked_query(
    q: KpiQuery,
    ranges: list[tuple[date | None, Ranked]],
    depths: list[int],
    *,
    by_team: bool,
    order: str,
    limit: int,
) -> tuple[str, list[object]]:
    """SQL of the top `limit` per bucket from its ranked period P (see 0006); a bucket
    whose read did not settle its top gets one row (idx, contributor NULL) instead.

    A contributor's figure is its P row (M) plus its slivers (D, only for the set A of
    contributors with shares in them). P's rows are read in the report's order
    (figure DESC, contributor) down to the bucket's depth; (B, c) is the last row read
    by M. Every unread row ranks after (B, c) by M, and a contributor outside A keeps
    its M, so once `limit` rows read rank at or before (B, c) by their exact figures,
    no unread contributor outside A can enter the top: the read is settled (so is one
    that read every row of P, with B = 0). Then, with V the `limit`-th best exact
    figure read, an unread contributor of A has a figure <= B + D, so only those with
    B + D >= V need their P row looked up (a handful: D is the slivers' shares).
    Slivers that lower many contributors (days cut off a month) push (B, c) down, so
    those buckets may need a deeper read.

    A bucket without a ranked period (grain None) is all slivers: every contributor's
    figures summed from its pieces, then ranked.
    """
    rank = "engagement" if order == "engagement" else "shares"
    ranking = "contributor_rollups" if rank == "engagement" else "contributor_share_ranks"
    sql = Sql()
    tenant = sql.bind(q.tenant_id)
    kind = sql.bind("team" if by_team else "advocate")
    scope = sql.bind(_scope(q, by_team))
    labels = sql.bind([b for b, _ in ranges])
    m_grains = sql.bind([r.grain.value if r.grain else None for _, r in ranges])
    m_starts = sql.bind([r.start for _, r in ranges])
    m_depths = sql.bind(depths)
    slivers = [(i, p) for i, (_, r) in enumerate(ranges, 1) for s in r.slivers for p in periods(s)]
    # Pieces of buckets with a ranked period (p: their slivers) and without (w: all).
    parts = {
        "p": [(i, p) for i, p in slivers if ranges[i - 1][1].grain is not None],
        "w": [(i, p) for i, p in slivers if ranges[i - 1][1].grain is None],
    }
    pieces_of = {name: _bind_pieces(sql, part) for name, part in parts.items()}
    # Runs taken away from weeks (see run_rows). Only reports with such runs carry their
    # parts: with none, the statement and its plan are the same as before 0010 (the
    # parts, even empty, cost ~1 ms per report).
    has_runs = any(p.grain in _RUN_GRAINS for _, p in parts["p"])
    contributions = {
        name: _contributions(sql, q, tenant, f"p{name}" if name == "w" else name, "idx",
                             shared_raw=_shared_raw(part), teams=by_team,
                             runs=has_runs and name == "p")
        for name, part in parts.items()
    }  # fmt: skip
    limit_param = sql.bind(limit)
    max_depth = sql.bind(_MAX_DEPTH)
    lookups = sql.bind(_LOOKUPS * limit)
    # One depth for every bucket (a first read): a scalar bound, so the custom plan
    # knows how many rows the reads return (not 10% of the period) and joins them
    # by hashing instead of sorting every sliver contributor.
    read_limit = sql.bind(depths[0]) + "::int" if len(set(depths)) == 1 else "l.depth"
    who = "t.team_id" if by_team else "c.advocate_id"
    unnest = " CROSS JOIN LATERAL unnest(c.team_ids) AS t(team_id)" if by_team else ""
    # Teams filtered by a team: that team's own row only.
    team = sql.bind(q.team) if q.team and by_team else None
    only = f"t.team_id = {team}" if team else "true"
    # Figures per (idx, contributor) of a contributions CTE.
    sums = (
        "SELECT c.idx, {who} AS contributor, sum(c.shares) AS shares, "
        " sum(c.clicks) AS clicks, sum(c.reactions) AS reactions, "
        " sum(c.comments) AS comments, sum(c.reshares) AS reshares "
        "FROM {cte} c{unnest} WHERE {only} GROUP BY 1, 2"
    )
    only_row = f"r.contributor = {team}" if team else "true"
    # Runs taken away from a week (0010; unfiltered, as weeks): their contributors' rows,
    # looked up for the contributors of `among` (rows read, contributors wanted) instead
    # of summing the run's days (~2,600 rollup rows a day), or all of them (teams).
    run_row = (
        f"x.tenant_id = {tenant} AND x.grain = p.grain AND x.period_start = p.t_from "
        f"AND x.kind = {kind} AND x.scope = ''"
    )
    run_figures = (
        "p.idx, x.contributor, (p.sign * x.shares)::int, (p.sign * x.clicks)::int, "
        "(p.sign * x.reactions)::int, (p.sign * x.comments)::int, (p.sign * x.reshares)::int"
    )
    runs = "p.grain IN ('days1', 'days2', 'days3')"

    def run_rows(among: str | None, extra: str = "") -> str:
        if among is None:
            only_run = f"x.contributor = {team}" if team else "true"
            return (
                f" SELECT {run_figures}{extra} FROM p JOIN contributor_rollups x "
                f" ON {run_row} AND {only_run} WHERE {runs}"
            )
        return (
            f" SELECT {run_figures}{extra} FROM {among} a JOIN p ON p.idx = a.idx AND {runs} "
            f" JOIN contributor_rollups x ON {run_row} AND x.contributor = a.contributor"
        )

    # Slivers taken away count in delta for the rows read only (see delta), and for
    # the contributors looked up in `looked_rows`. Not for teams: they are few, so
    # their first read is usually all of them, and the split would only cost (their
    # slivers, with their team arrays, kept for a second pass).
    split = not by_team
    kept = f"(c.sign > 0 OR (c.idx, {who}) IN (SELECT idx, contributor FROM read))"
    taken = (
        f" UNION ALL SELECT c.idx, {who}, c.shares, c.clicks, c.reactions, c.comments, "
        f"  c.reshares FROM contributions c{unnest} WHERE {only} AND c.sign < 0 "
        f"  AND (c.idx, {who}) IN (SELECT idx, contributor FROM wanted)"
    )
    taken += f" UNION ALL {run_rows('wanted')}" if has_runs else ""
    delta_runs = f" UNION ALL {run_rows('read' if split else None, ', NULL, NULL')}"
    period_row = (
        f"r.tenant_id = {tenant} AND r.grain = l.grain AND r.period_start = l.period_start "
        f"AND r.kind = {kind} AND r.scope = {scope}"
    )
    engagement = "{0}clicks + {0}reactions + {0}comments + {0}reshares"
    figure = "shares" if rank == "shares" else engagement.format("")
    figures = "shares, clicks, reactions, comments, reshares"
    query = (
        f"WITH m AS MATERIALIZED ("
        f" SELECT * FROM unnest({m_grains}::text[], {m_starts}::timestamptz[], "
        f"  {m_depths}::int[]) WITH ORDINALITY AS m(grain, period_start, depth, idx)"
        f"), p AS ("
        f" SELECT * FROM unnest({pieces_of['p']}) AS p(idx, grain, t_from, t_to, sign)"
        f"), pw AS ("
        f" SELECT * FROM unnest({pieces_of['w']}) AS pw(idx, grain, t_from, t_to, sign)"
        f"), contributions AS ({contributions['p']}"
        # Index-only: (figure, contributor, shares) from the ranking index (0007; by
        # shares, from its own table since 0012).
        f"), read AS MATERIALIZED ("
        f" SELECT l.idx, r.contributor, r.shares, r.figure "
        f" FROM m AS l CROSS JOIN LATERAL ("
        f"  SELECT r.contributor, r.shares, r.{rank} AS figure FROM {ranking} r "
        f"  WHERE {period_row} AND {only_row} "
        f"  ORDER BY r.{rank} DESC, r.contributor LIMIT {read_limit}) AS r"
        # Per (idx, contributor) of the slivers or of the rows read: the slivers' sums
        # (D: shares ... reshares, d) and, for a row read, its P figures (m, m_shares).
        # One aggregation of both: no join of the rows read with every sliver
        # contributor (the planner sorted both sides for it). Slivers taken away
        # (sign < 0) count here for the rows read only: an unread contributor's D is
        # then its added slivers' sums, an upper bound of its D that is enough to tell
        # whether it could reach the top (`wanted`); the few that could get the rest
        # in `looked_rows`. (Most sliver rows are taken away: the days cut off a month
        # or a week, a zone's hours before the first UTC midnight.) Teams: all count.
        f"), delta AS MATERIALIZED ("
        f" SELECT *, {figure} AS d FROM ("
        f"  SELECT c.idx, c.contributor, sum(c.shares) AS shares, sum(c.clicks) AS clicks, "
        f"   sum(c.reactions) AS reactions, sum(c.comments) AS comments, "
        f"   sum(c.reshares) AS reshares, max(c.m) AS m, max(c.m_shares) AS m_shares "
        f"  FROM (SELECT c.idx, {who} AS contributor, c.shares, c.clicks, c.reactions, "
        f"    c.comments, c.reshares, NULL::bigint AS m, NULL::bigint AS m_shares "
        f"   FROM contributions c{unnest} WHERE {only} AND {kept if split else 'true'} "
        f"   {delta_runs if has_runs else ''}"
        f"   UNION ALL SELECT idx, contributor, 0, 0, 0, 0, 0, figure, shares FROM read"
        f"  ) AS c GROUP BY 1, 2) AS g"
        # Buckets without a ranked period: all of their figures.
        f"), whole_contributions AS ({contributions['w']}"
        f"), whole AS MATERIALIZED ("
        f" SELECT *, {figure} AS d FROM ("
        f"  {sums.format(who=who, cte='whole_contributions', unnest=unnest, only=only)}) AS g"
        # Per bucket without a ranked period, the `limit`-th best figure: only its
        # contributors at or above it can rank, so the window below sorts a few dozen
        # of its wide rows, not every one (~9,500 for a partial week of 1-3 days). Ties
        # at the cut are all kept: exact. One sort of (idx, d) for all buckets: a
        # subquery per bucket scanned the whole CTE each time (quadratic: 25 s for a
        # year by day).
        f"), whole_cut AS MATERIALIZED ("
        f" SELECT idx, min(d) AS v FROM (SELECT idx, d, row_number() OVER (PARTITION BY idx "
        f"  ORDER BY d DESC) AS n FROM whole WHERE shares <> 0) AS w "
        f" WHERE n <= {limit_param} GROUP BY idx"
        # (B, c): the last row read (B = 0 when the read reached P's end: all were read).
        f"), floors AS MATERIALIZED ("
        f" SELECT l.idx, count(r.idx) < l.depth AS whole, "
        f"  CASE WHEN count(r.idx) < l.depth THEN 0 ELSE min(r.figure) END AS b, "
        f"  (array_agg(r.contributor ORDER BY r.figure, r.contributor DESC))[1] AS c "
        f" FROM m AS l LEFT JOIN read r ON r.idx = l.idx GROUP BY l.idx, l.depth"
        # Exact figures of the rows read: v ranks, shares <> 0 keeps.
        # (D_ keeps the slivers' sums, for the winners' figures.)
        f"), top AS MATERIALIZED ("
        f" SELECT idx, contributor, m_shares + shares AS shares, m + d AS v, "
        f"  shares AS d_shares, clicks AS d_clicks, reactions AS d_reactions, "
        f"  comments AS d_comments, reshares AS d_reshares "
        f" FROM delta WHERE m IS NOT NULL"
        # (V, cv): the `limit`-th best exact figure read, and its contributor.
        # With (B, c) per bucket: one small row each, joined once to every sliver
        # contributor below (not recomputed per row whatever the join's plan).
        f"), bounds AS MATERIALIZED ("
        f" SELECT f.*, nth.v, nth.cv FROM floors f LEFT JOIN ("
        f"  SELECT idx, v, contributor AS cv FROM (SELECT idx, v, contributor, row_number() "
        f"   OVER (PARTITION BY idx ORDER BY v DESC, contributor) AS n FROM top "
        f"   WHERE shares <> 0) AS x WHERE n = {limit_param}) AS nth ON nth.idx = f.idx"
        # Unread contributors u of A that could still reach the top: B + D > V, or
        # B + D = V with u's P row at B (so u > c; without a P row, u's M is 0, so
        # only when B = 0) winning the tie with cv (u < cv).
        f"), wanted AS MATERIALIZED ("
        f" SELECT d.* FROM delta d JOIN bounds f ON f.idx = d.idx "
        f" WHERE d.m IS NULL AND (f.v IS NULL OR d.d > f.v - f.b OR (d.d = f.v - f.b "
        f"  AND (f.whole OR f.b <= 0 OR d.contributor > f.c) AND d.contributor < f.cv))"
        # Settled: the rows read settle the top, and few contributors of A are left to
        # look up (a deeper read lowers B, so fewer have D >= V - B), or depth is spent.
        f"), settled AS MATERIALIZED ("
        f" SELECT f.idx FROM floors f JOIN m ON m.idx = f.idx "
        f" LEFT JOIN (SELECT t.idx, count(*) AS n FROM top t JOIN floors f USING (idx) "
        f"  WHERE t.shares <> 0 AND (t.v > f.b OR (t.v = f.b AND t.contributor <= f.c)) "
        f"  GROUP BY t.idx) AS above ON above.idx = f.idx "
        f" LEFT JOIN (SELECT idx, count(*) AS n FROM wanted GROUP BY idx) AS w "
        f"  ON w.idx = f.idx "
        f" WHERE (f.whole OR above.n >= {limit_param}) "
        f" AND (m.depth >= {max_depth} OR coalesce(w.n, 0) <= {lookups})"
        # Their whole D: with the slivers taken away (left out of delta). Summed, not
        # joined: the planner expects one wanted row and would rescan a join per row.
        f"), looked_rows AS ("
        f" SELECT idx, contributor, shares::int, clicks::int, reactions::int, comments::int, "
        f"  reshares::int FROM wanted {taken if split else ''}"
        f"), looked AS ("
        f" SELECT *, {figure} AS d FROM ("
        f"  {sums.format(who='c.contributor', cte='looked_rows', unnest='', only='true')}"
        f"  ) AS g"
        f"), extra AS ("
        f" SELECT d.idx, d.contributor, coalesce(r.{rank}, 0) + d.d AS v, "
        f"  coalesce(r.shares, 0) + d.shares AS shares, "
        f"  coalesce(r.clicks, 0) + d.clicks AS clicks, "
        f"  coalesce(r.reactions, 0) + d.reactions AS reactions, "
        f"  coalesce(r.comments, 0) + d.comments AS comments, "
        f"  coalesce(r.reshares, 0) + d.reshares AS reshares "
        f" FROM looked d JOIN m AS l ON l.idx = d.idx "
        f" LEFT JOIN contributor_rollups r ON {period_row} AND r.contributor = d.contributor "
        f" WHERE d.idx IN (SELECT idx FROM settled)"
        # Rows of extra and whole carry their figures; rows read (top) their slivers'
        # sums, to which their P row is added below.
        f"), winners AS ("
        f" SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY idx "
        f"  ORDER BY v DESC, contributor) AS rank FROM ("
        f"  SELECT idx, contributor, v, true AS read, d_shares AS shares, d_clicks AS clicks, "
        f"   d_reactions AS reactions, d_comments AS comments, d_reshares AS reshares FROM top "
        f"   WHERE shares <> 0 AND idx IN (SELECT idx FROM settled) "
        f"  UNION ALL SELECT idx, contributor, v, false, {figures} FROM extra "
        f"   WHERE shares <> 0 "
        f"  UNION ALL SELECT w.idx, w.contributor, w.d, false, {figures} FROM whole w "
        f"   JOIN whole_cut k ON k.idx = w.idx WHERE w.shares <> 0 AND w.d >= k.v"
        f"  ) AS c) AS w "
        f" WHERE rank <= {limit_param}"
        f"), figures AS ("
        # The figures of winners read from P: their P row plus their slivers.
        f" SELECT w.idx, w.rank, w.contributor, w.shares + coalesce(r.shares, 0) AS shares, "
        f"  w.clicks + coalesce(r.clicks, 0) AS clicks, "
        f"  w.reactions + coalesce(r.reactions, 0) AS reactions, "
        f"  w.comments + coalesce(r.comments, 0) AS comments, "
        f"  w.reshares + coalesce(r.reshares, 0) AS reshares "
        f" FROM winners w JOIN m AS l ON l.idx = w.idx "
        # A lookup per winner: joined, a year by day's 3,650 winners made the planner
        # hash every rollup row (2.4 M, ~2 s) for the few it needs.
        f" LEFT JOIN LATERAL (SELECT r.shares, r.clicks, r.reactions, r.comments, r.reshares "
        f"  FROM contributor_rollups r WHERE w.read AND {period_row} "
        f"  AND r.contributor = w.contributor OFFSET 0) AS r ON true"
        f") "
        f"SELECT idx, rank, ({labels}::date[])[idx] AS bucket, contributor, {figures}, "
        f" {engagement.format('')} AS engagement FROM figures "
        # Unsettled buckets: one marker row each.
        f"UNION ALL SELECT idx, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL FROM m "
        f" WHERE idx NOT IN (SELECT idx FROM settled) "
        f"ORDER BY idx, rank"
    )
    return query, sql.args


async def _top_contributors_from_shares(
    conn: asyncpg.Connection, q: KpiQuery, *, by_team: bool, order: str, limit: int
) -> list[asyncpg.Record]:
    """The same report from every share of the period (filtered reports)."""
    sql = Sql()
    share_filters(sql, q)
    period(sql, q, "s.posted_at")
    bucket = bucket_expr(sql, q, "s.posted_at", await _days(conn, q, "shares"))
    who = "t.team_id" if by_team else "s.advocate_id"
    source = (
        "shares s CROSS JOIN LATERAL unnest(s.team_ids) AS t(team_id)" if by_team else "shares s"
    )
    if q.team and by_team:
        sql.where(f"t.team_id = {sql.bind(q.team)}")
    grouped = (
        f"SELECT {bucket} AS bucket, {who} AS contributor, count(*) AS shares, "
        f" sum(s.clicks) AS clicks, sum(s.reactions) AS reactions, "
        f" sum(s.comments) AS comments, sum(s.reshares) AS reshares, "
        f" sum(s.clicks + s.reactions + s.comments + s.reshares) AS engagement "
        f"FROM {source} WHERE {sql.condition} GROUP BY 1, 2"
    )
    return list(await conn.fetch(_ranked(sql, q, grouped, order, limit), *sql.args))


def _ranked(sql: Sql, q: KpiQuery, grouped: str, order: str, limit: int) -> str:
    """Top `limit` rows of `grouped` (bucket, contributor, figures) per bucket."""
    rank = "engagement" if order == "engagement" else "shares"
    limit_param = sql.bind(limit)
    if q.bucket is Bucket.NONE:
        # One ranking: a top-N sort, no window function.
        return f"{grouped} ORDER BY {rank} DESC, contributor LIMIT {limit_param}"
    return (
        f"SELECT bucket, contributor, shares, clicks, reactions, comments, reshares, "
        f" engagement FROM (SELECT *, row_number() OVER (PARTITION BY bucket "
        f"   ORDER BY {rank} DESC, contributor) AS rank FROM ({grouped}) AS per_contributor"
        f") AS ranked WHERE rank <= {limit_param} ORDER BY bucket, rank"
    )


async def reach(conn: asyncpg.Connection, q: KpiQuery) -> list[asyncpg.Record]:
    sql = Sql()
    share_filters(sql, q)
    period(sql, q, "s.posted_at")
    bucket = bucket_expr(sql, q, "s.posted_at", await _days(conn, q, "shares"))
    return list(
        await conn.fetch(
            f"SELECT {bucket} AS bucket, count(*) AS shares, "
            f" count(*) FILTER (WHERE s.impressions_reported) AS shares_with_impressions, "
            f" coalesce(sum(s.impressions) FILTER (WHERE s.impressions_reported), 0) "
            f"   AS measured_impressions, "
            f" count(a.followers) FILTER (WHERE NOT s.impressions_reported) "
            f"   AS shares_estimated, "
            f" coalesce(sum(a.followers) FILTER (WHERE NOT s.impressions_reported), 0) "
            f"   AS estimated_reach, "
            f" count(*) FILTER (WHERE NOT s.impressions_reported AND a.followers IS NULL) "
            f"   AS shares_without_data "
            f"FROM shares s LEFT JOIN audiences a ON a.tenant_id = s.tenant_id "
            f" AND a.advocate_id = s.advocate_id AND a.network = s.network "
            f"WHERE {sql.condition} GROUP BY 1 ORDER BY 1 NULLS FIRST",
            *sql.args,
        )
    )


def rolled_up(q: KpiQuery) -> bool:
    """Whether `engagement_rollups` hold the report's filters (tenant and network only)."""
    return not (q.team or q.advocate or q.campaign)


EngagementCells = dict[tuple[date | None, str, str, str], int]
"""(bucket, network, kind, outcome) -> count, zero sums left out."""


async def engagement_cells(
    conn: asyncpg.Connection, q: KpiQuery, *, clicks_only: bool
) -> EngagementCells:
    """Engagement by the bucket of its own time, summed over `engagement_rollups`, their
    unfolded deltas and the raw slivers of each bucket's signed pieces (0013): clicks by
    outcome ('' valid, else the rejection reason) and valid reported counts, per network
    of the share. Only for `rolled_up` filters."""
    span = _SPANS["clicks" if clicks_only else "engagement"]
    ranges = await _bucket_ranges(conn, q, span)
    part = [(i, p) for i, (_, lo, hi) in enumerate(ranges, 1) for p in engagement_pieces(lo, hi)]
    if not part:
        return {}
    sql = Sql()
    tenant = sql.bind(q.tenant_id)
    arrays = _bind_pieces(sql, part)
    network = sql.bind(q.network) if q.network else None

    def only(alias: str, *, kind: bool = True) -> str:
        """The report's network, and clicks only for traffic, on the rows of `alias`."""
        out = f" AND {alias}.network = {network}" if network else ""
        return out + (f" AND {alias}.kind = 'clicks'" if clicks_only and kind else "")

    rolled, deltas, raw_network = only("r"), only("d"), only("s", kind=False)
    reported = (
        ""
        if clicks_only
        else f" UNION ALL SELECT p.idx, s.network, e.kind, '', sum(p.sign * e.applied) "
        f"FROM p CROSS JOIN LATERAL (SELECT e.share_id, e.kind, e.applied FROM reported e "
        f"  WHERE e.tenant_id = {tenant} AND e.occurred_at >= p.t_from "
        f"  AND e.occurred_at < p.t_to AND e.status = 'valid' OFFSET 0) AS e "
        f"JOIN shares s ON s.tenant_id = {tenant} AND s.share_id = e.share_id "
        f"WHERE p.grain = 'raw'{raw_network} GROUP BY 1, 2, 3"
    )
    rows = await conn.fetch(
        f"WITH p AS (SELECT * FROM unnest({arrays}) AS p(idx, grain, t_from, t_to, sign)) "
        # LATERAL: one index range per piece (a join by grain hashes every row of it).
        f"SELECT p.idx, r.network, r.kind, r.outcome, sum(p.sign * r.n) AS n "
        f"FROM p CROSS JOIN LATERAL (SELECT r.network, r.kind, r.outcome, r.n "
        f"  FROM engagement_rollups r WHERE r.tenant_id = {tenant} AND r.grain = p.grain "
        f"  AND r.period_start >= p.t_from AND r.period_start < p.t_to{rolled} OFFSET 0) AS r "
        f"WHERE p.grain <> 'raw' GROUP BY 1, 2, 3, 4 "
        # Not folded yet: stamped with their quarter hour, so inside any piece not raw.
        f"UNION ALL SELECT p.idx, d.network, d.kind, d.outcome, sum(p.sign * d.n) "
        f"FROM p JOIN engagement_rollup_deltas d ON d.tenant_id = {tenant} "
        f" AND d.at >= p.t_from AND d.at < p.t_to "
        f"WHERE p.grain <> 'raw'{deltas} GROUP BY 1, 2, 3, 4 "
        f"UNION ALL SELECT p.idx, s.network, 'clicks', coalesce(c.reason, ''), sum(p.sign) "
        f"FROM p CROSS JOIN LATERAL (SELECT c.share_id, c.reason FROM clicks c "
        f"  WHERE c.tenant_id = {tenant} AND c.occurred_at >= p.t_from "
        f"  AND c.occurred_at < p.t_to AND c.status <> 'pending' OFFSET 0) AS c "
        f"JOIN shares s ON s.tenant_id = {tenant} AND s.share_id = c.share_id "
        f"WHERE p.grain = 'raw'{raw_network} GROUP BY 1, 2, 3, 4"
        f"{reported}",
        *sql.args,
    )
    cells: EngagementCells = {}
    for r in rows:
        key = (ranges[r["idx"] - 1][0], r["network"], r["kind"], r["outcome"])
        cells[key] = cells.get(key, 0) + int(r["n"])
    return {k: n for k, n in cells.items() if n}


async def engagement_per_network(conn: asyncpg.Connection, q: KpiQuery) -> list[asyncpg.Record]:
    clicks = Sql()
    share_filters(clicks, q)
    clicks.where("c.status = 'valid'")
    period(clicks, q, "c.occurred_at")
    click_bucket = bucket_expr(clicks, q, "c.occurred_at", await _days(conn, q, "clicks"))
    rows = list(
        await conn.fetch(
            f"SELECT {click_bucket} AS bucket, s.network, count(*) AS clicks "
            f"FROM clicks c JOIN shares s ON s.tenant_id = c.tenant_id AND s.share_id = c.share_id "
            f"WHERE c.tenant_id = $1 AND {clicks.condition} GROUP BY 1, 2",
            *clicks.args,
        )
    )
    reported = Sql()
    share_filters(reported, q)
    reported.where("r.status = 'valid'")
    period(reported, q, "r.occurred_at")
    reported_bucket = bucket_expr(reported, q, "r.occurred_at", await _days(conn, q, "reported"))
    rows += await conn.fetch(
        f"SELECT {reported_bucket} AS bucket, s.network, r.kind, sum(r.applied) AS n "
        f"FROM reported r JOIN shares s ON s.tenant_id = r.tenant_id AND s.share_id = r.share_id "
        f"WHERE r.tenant_id = $1 AND {reported.condition} GROUP BY 1, 2, 3",
        *reported.args,
    )
    return rows


async def unique_visitors(conn: asyncpg.Connection, q: KpiQuery) -> dict[date | None, int]:
    """Distinct visitor hashes of valid clicks per bucket (`rolled_up` filters: the share
    is only read for its network). Distinct counts do not add up across rollup periods,
    so this reads the period's valid clicks, hashing them rather than sorting."""
    sql = Sql()
    sql.where(f"c.tenant_id = {sql.bind(q.tenant_id)} AND c.status = 'valid'")
    if q.network:
        sql.where(
            f"EXISTS (SELECT FROM shares s WHERE s.tenant_id = c.tenant_id "
            f"AND s.share_id = c.share_id AND s.network = {sql.bind(q.network)})"
        )
    period(sql, q, "c.occurred_at")
    bucket = bucket_expr(sql, q, "c.occurred_at", await _days(conn, q, "clicks"))
    rows = await conn.fetch(
        f"SELECT bucket, count(*) AS visitors FROM (SELECT DISTINCT {bucket} AS bucket, "
        f" c.visitor_hash FROM clicks c WHERE {sql.condition}) AS v GROUP BY 1",
        *sql.args,
    )
    return {r["bucket"]: int(r["visitors"]) for r in rows}


async def traffic(conn: asyncpg.Connection, q: KpiQuery) -> list[asyncpg.Record]:
    sql = Sql()
    share_filters(sql, q)
    sql.where("c.status <> 'pending'")
    period(sql, q, "c.occurred_at")
    bucket = bucket_expr(sql, q, "c.occurred_at", await _days(conn, q, "clicks"))
    return list(
        await conn.fetch(
            f"SELECT {bucket} AS bucket, coalesce(c.reason, '') AS reason, count(*) AS n, "
            f" count(DISTINCT c.visitor_hash) FILTER (WHERE c.status = 'valid') AS visitors "
            f"FROM clicks c JOIN shares s ON s.tenant_id = c.tenant_id AND s.share_id = c.share_id "
            f"WHERE c.tenant_id = $1 AND {sql.condition} GROUP BY 1, 2 ORDER BY 1 NULLS FIRST",
            *sql.args,
        )
    )


async def sentiment(conn: asyncpg.Connection, q: KpiQuery) -> list[asyncpg.Record]:
    sql = Sql()
    share_filters(sql, q)
    sql.where("r.status = 'valid' AND r.kind = 'comments' AND r.sentiment_label IS NOT NULL")
    period(sql, q, "r.occurred_at")
    bucket = bucket_expr(sql, q, "r.occurred_at", await _days(conn, q, "reported"))
    return list(
        await conn.fetch(
            f"SELECT {bucket} AS bucket, count(*) AS comments, "
            f" count(*) FILTER (WHERE r.sentiment_label = 'positive') AS positive, "
            f" count(*) FILTER (WHERE r.sentiment_label = 'neutral') AS neutral, "
            f" count(*) FILTER (WHERE r.sentiment_label = 'negative') AS negative, "
            f" count(*) FILTER (WHERE r.sentiment_label = 'unscored') AS unscored, "
            f" avg(r.sentiment_score) AS score "
            f"FROM reported r JOIN shares s "
            f" ON s.tenant_id = r.tenant_id AND s.share_id = r.share_id "
            f"WHERE r.tenant_id = $1 AND {sql.condition} GROUP BY 1 ORDER BY 1 NULLS FIRST",
            *sql.args,
        )
    )


async def hashtag_mentions(conn: asyncpg.Connection, q: KpiQuery) -> list[asyncpg.Record]:
    captions = Sql()
    share_filters(captions, q)
    period(captions, q, "s.posted_at")
    bucket = bucket_expr(captions, q, "s.posted_at", await _days(conn, q, "shares"))
    rows = list(
        await conn.fetch(
            f"SELECT {bucket} AS bucket, tag, 'captions' AS place, count(*) AS n "
            f"FROM shares s CROSS JOIN LATERAL unnest(s.caption_hashtags) AS tag "
            f"WHERE {captions.condition} GROUP BY 1, 2",
            *captions.args,
        )
    )
    comments = Sql()
    share_filters(comments, q)
    comments.where("r.status = 'valid' AND r.kind = 'comments'")
    period(comments, q, "r.occurred_at")
    comment_bucket = bucket_expr(comments, q, "r.occurred_at", await _days(conn, q, "reported"))
    rows += await conn.fetch(
        f"SELECT {comment_bucket} AS bucket, tag, 'comments' AS place, count(*) AS n "
        f"FROM reported r JOIN shares s ON s.tenant_id = r.tenant_id AND s.share_id = r.share_id "
        f"CROSS JOIN LATERAL unnest(r.hashtags) AS tag "
        f"WHERE r.tenant_id = $1 AND {comments.condition} GROUP BY 1, 2",
        *comments.args,
    )
    return rows


async def active_advocates(conn: asyncpg.Connection, q: KpiQuery) -> list[asyncpg.Record]:
    sql = Sql()
    share_filters(sql, q)
    period(sql, q, "s.posted_at")
    bucket = bucket_expr(sql, q, "s.posted_at", await _days(conn, q, "shares"))
    return list(
        await conn.fetch(
            f"SELECT {bucket} AS bucket, count(DISTINCT s.advocate_id) AS advocates "
            f"FROM shares s WHERE {sql.condition} GROUP BY 1 ORDER BY 1 NULLS FIRST",
            *sql.args,
        )
    )


async def enrolled(conn: asyncpg.Connection, tenant: str) -> int | None:
    value = await conn.fetchval(
        "SELECT enrolled_advocates FROM programs WHERE tenant_id = $1", tenant
    )
    return int(value) if value is not None else None


async def program_time_zone(conn: asyncpg.Connection, tenant: str) -> str | None:
    value = await conn.fetchval("SELECT time_zone FROM programs WHERE tenant_id = $1", tenant)
    return str(value) if value else None


async def shared_content(conn: asyncpg.Connection, q: KpiQuery) -> list[asyncpg.Record]:
    """Distinct content shared per bucket (shares filtered like every share KPI)."""
    sql = Sql()
    share_filters(sql, q)
    period(sql, q, "s.posted_at")
    bucket = bucket_expr(sql, q, "s.posted_at", await _days(conn, q, "shares"))
    return list(
        await conn.fetch(
            f"SELECT {bucket} AS bucket, s.content_id FROM shares s "
            f"WHERE {sql.condition} GROUP BY 1, 2",
            *sql.args,
        )
    )


async def content_availability(conn: asyncpg.Connection, q: KpiQuery) -> list[asyncpg.Record]:
    """Every approved item with the interval it was shareable: [available_from, until)."""
    sql = Sql()
    sql.where(f"i.tenant_id = {sql.bind(q.tenant_id)} AND i.version > 0")
    if q.campaign:
        sql.where(f"{sql.bind(q.campaign)} = ANY(i.campaign_hashtags)")
    return list(
        await conn.fetch(
            f"SELECT content_id, available_from, least(retired_at, expires_at) AS until "
            f"FROM content_items i WHERE {sql.condition}",
            *sql.args,
        )
    )
