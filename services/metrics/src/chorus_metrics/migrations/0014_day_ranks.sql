-- Rankings of single UTC days (grain 'day'), unfiltered scope, both kinds, as weeks.
--
-- A day-bucketed top-contributors report had no ranked period for its days but the
-- week-edge runs (Mondays and Sundays): every other local day summed all its
-- contributors from share_rollups (~2,700 day rows a day on the 10 M bench data set,
-- one per advocate, network and teams: an advocate rarely shares twice a day) and
-- ranked them: ~250-350 ms for a month by day. A local day is one UTC day give or take
-- its zone's offset, so with a ranked UTC day it reads that day's top rows plus raw
-- slivers at both edges, as a week or a month does. Costs the fold two more rows per
-- merged delta (the advocate's and its teams' day rows) besides its ~13.

-- Folds first wait for this migration (the fold's own lock, taken before anything else:
-- a fold holds it while it writes contributor_rollups, which the ALTERs below lock).
SELECT pg_advisory_xact_lock(hashtext('chorus_metrics'), hashtext('contributor_rollups'));
ALTER TABLE contributor_rollups DROP CONSTRAINT contributor_rollups_grain_check;
ALTER TABLE contributor_rollups ADD CONSTRAINT contributor_rollups_grain_check
    CHECK (grain IN ('day', 'days1', 'days2', 'days3', 'week', 'month', 'year'));
ALTER TABLE contributor_share_ranks DROP CONSTRAINT contributor_share_ranks_grain_check;
ALTER TABLE contributor_share_ranks ADD CONSTRAINT contributor_share_ranks_grain_check
    CHECK (grain IN ('day', 'days1', 'days2', 'days3', 'week', 'month', 'year'));

-- The backfill reads share_rollups (current) while contributor_rollups lag by the
-- pending deltas: fold those first, and hold new deltas (writers' share triggers
-- wait on this lock) until this commits, so none is both backfilled and folded.
LOCK TABLE contributor_rollup_deltas IN EXCLUSIVE MODE;
SELECT fold_contributor_rollups();

CREATE OR REPLACE FUNCTION fold_contributor_rollups() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    n_folded bigint;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('chorus_metrics'), hashtext('contributor_rollups'));
    WITH pending AS MATERIALIZED (
        DELETE FROM contributor_rollup_deltas
        RETURNING tenant_id, posted_at, advocate_id, network, team_ids, shares AS n, clicks,
            reactions, comments, reshares
    ), d AS MATERIALIZED (
        -- Every ranked period depends on the share's UTC day only: merge the deltas of
        -- one (day, advocate, network, teams) before each is spread over ~15 rows.
        SELECT tenant_id, date_trunc('day', posted_at, 'UTC') AS posted_at, advocate_id,
            network, team_ids, sum(n) AS n, sum(clicks) AS clicks,
            sum(reactions) AS reactions, sum(comments) AS comments, sum(reshares) AS reshares
        FROM pending GROUP BY 1, 2, 3, 4, 5
    ), c AS MATERIALIZED (
        SELECT c.tenant_id, c.grain, c.period_start, c.kind, c.scope, c.contributor,
            sum(c.n) AS shares, sum(c.clicks) AS clicks, sum(c.reactions) AS reactions,
            sum(c.comments) AS comments, sum(c.reshares) AS reshares,
            sum(c.clicks + c.reactions + c.comments + c.reshares) AS engagement
        FROM (
            -- contributor_scopes(), spelled out as joins: no per-row function call.
            SELECT d.*, g.grain, date_trunc(g.grain, d.posted_at, 'UTC') AS period_start,
                k.kind, '' AS scope, k.contributor
            FROM d CROSS JOIN (VALUES ('day'), ('week'), ('month'), ('year')) AS g(grain)
            CROSS JOIN LATERAL (SELECT 'advocate', d.advocate_id UNION ALL
                SELECT 'team', t FROM unnest(d.team_ids) AS t) AS k(kind, contributor)
            UNION ALL
            -- The week-edge runs the share's UTC day is in (week_edge_runs, 0010).
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
    ), folded AS (
        INSERT INTO contributor_rollups AS r (tenant_id, grain, period_start, kind, scope,
            contributor, shares, clicks, reactions, comments, reshares, engagement)
        SELECT * FROM c
        ORDER BY 1, 2, 3, 4, 5, 6
        ON CONFLICT (tenant_id, grain, period_start, kind, scope, contributor)
        DO UPDATE SET shares = r.shares + excluded.shares, clicks = r.clicks + excluded.clicks,
            reactions = r.reactions + excluded.reactions,
            comments = r.comments + excluded.comments,
            reshares = r.reshares + excluded.reshares,
            engagement = r.engagement + excluded.engagement
    ), ranked AS (
        -- Only rows whose share count moved: a click changes no shares ranking.
        INSERT INTO contributor_share_ranks AS r (tenant_id, grain, period_start, kind,
            scope, contributor, shares)
        SELECT c.tenant_id, c.grain, c.period_start, c.kind, c.scope, c.contributor, c.shares
        FROM c WHERE c.shares <> 0
        ORDER BY 1, 2, 3, 4, 5, 6
        ON CONFLICT (tenant_id, grain, period_start, kind, scope, contributor)
        DO UPDATE SET shares = r.shares + excluded.shares
    )
    SELECT count(*) INTO n_folded FROM pending;
    RETURN n_folded;
END
$$;

ALTER FUNCTION fold_contributor_rollups() SET work_mem = '64MB';

-- The days of the shares recorded so far, from their UTC day rollups, in key order; and
-- their shares ranking (every contributor_rollups row has its contributor_share_ranks
-- row, 0012).
SET LOCAL work_mem = '256MB';
INSERT INTO contributor_rollups (tenant_id, grain, period_start, kind, scope, contributor,
    shares, clicks, reactions, comments, reshares, engagement)
SELECT r.tenant_id, 'day', r.period_start, k.kind, '', k.contributor, sum(r.shares),
    sum(r.clicks), sum(r.reactions), sum(r.comments), sum(r.reshares),
    sum(r.clicks + r.reactions + r.comments + r.reshares)
FROM share_rollups AS r
CROSS JOIN LATERAL (SELECT 'advocate', r.advocate_id UNION ALL
    SELECT 'team', t FROM unnest(r.team_ids) AS t) AS k(kind, contributor)
WHERE r.grain = 'day'
GROUP BY 1, 2, 3, 4, 5, 6
HAVING sum(r.shares) <> 0 OR sum(r.clicks) <> 0 OR sum(r.reactions) <> 0
    OR sum(r.comments) <> 0 OR sum(r.reshares) <> 0
ORDER BY 1, 2, 3, 4, 5, 6;

INSERT INTO contributor_share_ranks (tenant_id, grain, period_start, kind, scope,
    contributor, shares)
SELECT tenant_id, grain, period_start, kind, scope, contributor, shares
FROM contributor_rollups WHERE grain = 'day'
ORDER BY 1, 2, 3, 4, 5, 6;

ANALYZE contributor_rollups;
ANALYZE contributor_share_ranks;
