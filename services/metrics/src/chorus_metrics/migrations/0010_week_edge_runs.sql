-- Rankings of the 1-3 day runs at each UTC week's edges (grains 'days1'..'days3').
--
-- A week-bucketed report's partial first or last week (its period starts or ends
-- mid-week) is a week's last or first 1-6 days. 4-6 days read the week's ranking less
-- up to 3 days of slivers (kpis/rollup.py), but 1-3 days had no ranked period: every
-- contributor of those days was summed from share_rollups and ranked (~7,700 day rows
-- into ~9,500 contributors, ~100 ms of the 10 M bench's slowest reports). Now the
-- first and the last k days of every UTC week (k = 1, 2, 3) are ranked periods like
-- weeks: grain 'days<k>', period_start = the run's first UTC midnight (Monday for a
-- head, Sunday - (k - 1) days for a tail). A share counts in 0-3 runs (a Monday in
-- three heads, a Thursday in none): 12/7 rows per share and kind on average.
-- Unfiltered scope only, both kinds, as weeks; the fold writes them (the day of
-- posted_at in UTC decides: date_trunc('week') is a Monday in UTC).

-- Folds first wait for this migration (the fold's own lock, taken before anything else:
-- a fold holds it while it writes contributor_rollups, which the ALTER below locks).
SELECT pg_advisory_xact_lock(hashtext('chorus_metrics'), hashtext('contributor_rollups'));
ALTER TABLE contributor_rollups DROP CONSTRAINT contributor_rollups_grain_check;
ALTER TABLE contributor_rollups ADD CONSTRAINT contributor_rollups_grain_check
    CHECK (grain IN ('days1', 'days2', 'days3', 'week', 'month', 'year'));

-- The backfill reads share_rollups (current) while contributor_rollups lag by the
-- pending deltas: fold those first, and hold new deltas (writers' share triggers
-- wait on this lock) until this commits, so none is both backfilled and folded.
LOCK TABLE contributor_rollup_deltas IN EXCLUSIVE MODE;
SELECT fold_contributor_rollups();

-- The week-edge runs a share posted at `posted_at` counts in: (grain, period_start),
-- for k = 1..3, the week's first k UTC days if its day is among them, else its last k
-- if it is among those. Computed on UTC timestamps (immutable, inlined by the planner).
CREATE FUNCTION week_edge_runs(posted_at timestamptz)
RETURNS TABLE (grain text, period_start timestamptz)
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT 'days' || k.n,
        (CASE WHEN w.dow <= k.n THEN w.monday ELSE w.monday + (7 - k.n) * interval '1 day' END)
            AT TIME ZONE 'UTC'
    FROM (SELECT date_trunc('week', posted_at AT TIME ZONE 'UTC') AS monday,
            extract(isodow FROM posted_at AT TIME ZONE 'UTC')::int AS dow) AS w
    CROSS JOIN (VALUES (1), (2), (3)) AS k(n)
    WHERE w.dow <= k.n OR w.dow >= 8 - k.n
$$;

CREATE OR REPLACE FUNCTION fold_contributor_rollups() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    n_folded bigint;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('chorus_metrics'), hashtext('contributor_rollups'));
    WITH d AS MATERIALIZED (
        DELETE FROM contributor_rollup_deltas
        RETURNING tenant_id, posted_at, advocate_id, network, team_ids, shares AS n, clicks,
            reactions, comments, reshares
    ), folded AS (
        INSERT INTO contributor_rollups AS r (tenant_id, grain, period_start, kind, scope,
            contributor, shares, clicks, reactions, comments, reshares, engagement)
        SELECT c.tenant_id, c.grain, c.period_start, c.kind, c.scope, c.contributor, sum(c.n),
            sum(c.clicks), sum(c.reactions), sum(c.comments), sum(c.reshares),
            sum(c.clicks + c.reactions + c.comments + c.reshares)
        FROM (
            -- contributor_scopes(), spelled out as joins: no per-row function call.
            SELECT d.*, g.grain, date_trunc(g.grain, d.posted_at, 'UTC') AS period_start,
                k.kind, '' AS scope, k.contributor
            FROM d CROSS JOIN (VALUES ('week'), ('month'), ('year')) AS g(grain)
            CROSS JOIN LATERAL (SELECT 'advocate', d.advocate_id UNION ALL
                SELECT 'team', t FROM unnest(d.team_ids) AS t) AS k(kind, contributor)
            UNION ALL
            -- The week-edge runs the share's UTC day is in (week_edge_runs below).
            SELECT d.*, e.grain, e.period_start, k.kind, '', k.contributor
            FROM d CROSS JOIN LATERAL week_edge_runs(d.posted_at) AS e
            CROSS JOIN LATERAL (SELECT 'advocate', d.advocate_id UNION ALL
                SELECT 'team', t FROM unnest(d.team_ids) AS t) AS k(kind, contributor)
            UNION ALL
            SELECT d.*, 'year', date_trunc('year', d.posted_at, 'UTC'), k.kind,
                'n:' || d.network, k.contributor
            FROM d CROSS JOIN LATERAL (SELECT 'advocate', d.advocate_id UNION ALL
                SELECT 'team', t FROM unnest(d.team_ids) AS t) AS k(kind, contributor)
            UNION ALL
            SELECT d.*, 'year', date_trunc('year', d.posted_at, 'UTC'), 'advocate', v.scope,
                d.advocate_id
            FROM d CROSS JOIN unnest(d.team_ids) WITH ORDINALITY AS t(team, i)
            CROSS JOIN LATERAL (VALUES ('t:' || t.team), ('t:' || t.team || '|n:' || d.network))
                AS v(scope)
            WHERE t.team <> ALL (d.team_ids[:(t.i - 1)::int])  -- each distinct team once
        ) AS c(tenant_id, posted_at, advocate_id, network, team_ids, n, clicks, reactions,
               comments, reshares, grain, period_start, kind, scope, contributor)
        GROUP BY 1, 2, 3, 4, 5, 6
        HAVING sum(c.n) <> 0 OR sum(c.clicks) <> 0 OR sum(c.reactions) <> 0
            OR sum(c.comments) <> 0 OR sum(c.reshares) <> 0
        ORDER BY 1, 2, 3, 4, 5, 6
        ON CONFLICT (tenant_id, grain, period_start, kind, scope, contributor)
        DO UPDATE SET shares = r.shares + excluded.shares, clicks = r.clicks + excluded.clicks,
            reactions = r.reactions + excluded.reactions,
            comments = r.comments + excluded.comments,
            reshares = r.reshares + excluded.reshares,
            engagement = r.engagement + excluded.engagement
    )
    SELECT count(*) INTO n_folded FROM d;
    RETURN n_folded;
END
$$;

ALTER FUNCTION fold_contributor_rollups() SET work_mem = '64MB';

-- The runs of the shares recorded so far, from their UTC day rollups (one row per
-- advocate, network and teams a day: ~2,600 a day on the 10 M bench data set, not
-- ~2,700 shares), in key order.
SET LOCAL work_mem = '256MB';
INSERT INTO contributor_rollups (tenant_id, grain, period_start, kind, scope, contributor,
    shares, clicks, reactions, comments, reshares, engagement)
SELECT r.tenant_id, e.grain, e.period_start, k.kind, '', k.contributor, sum(r.shares),
    sum(r.clicks), sum(r.reactions), sum(r.comments), sum(r.reshares),
    sum(r.clicks + r.reactions + r.comments + r.reshares)
FROM share_rollups AS r CROSS JOIN LATERAL week_edge_runs(r.period_start) AS e
CROSS JOIN LATERAL (SELECT 'advocate', r.advocate_id UNION ALL
    SELECT 'team', t FROM unnest(r.team_ids) AS t) AS k(kind, contributor)
WHERE r.grain = 'day'
GROUP BY 1, 2, 3, 4, 5, 6
HAVING sum(r.shares) <> 0 OR sum(r.clicks) <> 0 OR sum(r.reactions) <> 0
    OR sum(r.comments) <> 0 OR sum(r.reshares) <> 0
ORDER BY 1, 2, 3, 4, 5, 6;

ANALYZE contributor_rollups;
