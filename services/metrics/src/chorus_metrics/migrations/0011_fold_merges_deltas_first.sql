-- The fold merges its pending deltas per (UTC day, advocate, network, teams) first.
--
-- Each delta was spread over its ~13 ranked rows (weeks, months, years, week-edge runs;
-- advocate and team; the year's scopes) and only then grouped. The share triggers append
-- one delta per changed share and batch, so a fold after busy recent shares reads several
-- deltas per key: 3,840 deltas of 768 (day, advocate, network, teams) keys took 1.2-1.4 s
-- to fold, 0.30-0.35 s merged first (the 100k-click recent-shares bench's end state).
-- Every ranked row depends on the share's UTC day only (date_trunc to week, month and
-- year; week_edge_runs), so summing per day first gives the same rows.

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
        -- one (day, advocate, network, teams) before each is spread over ~13 rows.
        SELECT tenant_id, date_trunc('day', posted_at, 'UTC') AS posted_at, advocate_id,
            network, team_ids, sum(n) AS n, sum(clicks) AS clicks,
            sum(reactions) AS reactions, sum(comments) AS comments, sum(reshares) AS reshares
        FROM pending GROUP BY 1, 2, 3, 4, 5
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
    SELECT count(*) INTO n_folded FROM pending;
    RETURN n_folded;
END
$$;

ALTER FUNCTION fold_contributor_rollups() SET work_mem = '64MB';
