-- The shares ranking of contributor_rollups moves to its own narrow table.
--
-- contributor_rollups had two ranking indexes, by shares and by engagement. A click
-- moves engagement, so its rows are never updated HOT, and every update inserted an
-- entry into both ranking indexes and the primary key, although the shares ranking
-- only changes when a share is recorded or removed. On the uniform 100k-click bench
-- (a click on nearly every share) the fold was the largest cost of ingestion (~40% of
-- PostgreSQL's time). Now contributor_rollups keeps every figure and its engagement
-- ranking; contributor_share_ranks holds (key, shares) with the shares ranking, and
-- the fold writes it only for rows whose share count moved. Every row of
-- contributor_rollups has its share-ranks row: each is created by its share's
-- recording (a delta with shares = 1), folded before or with the share's clicks.

-- Folds wait for this migration (their lock first): the backfill below must not miss
-- a fold's rows, and pending deltas are folded afterwards into both tables.
SELECT pg_advisory_xact_lock(hashtext('chorus_metrics'), hashtext('contributor_rollups'));

CREATE TABLE contributor_share_ranks (
    tenant_id       text        NOT NULL,
    grain           text        NOT NULL
        CHECK (grain IN ('days1', 'days2', 'days3', 'week', 'month', 'year')),
    period_start    timestamptz NOT NULL,
    kind            text        NOT NULL CHECK (kind IN ('advocate', 'team')),
    scope           text        NOT NULL,
    contributor     text        NOT NULL,
    shares          bigint      NOT NULL
);

SET LOCAL maintenance_work_mem = '256MB';
INSERT INTO contributor_share_ranks (tenant_id, grain, period_start, kind, scope,
    contributor, shares)
SELECT tenant_id, grain, period_start, kind, scope, contributor, shares
FROM contributor_rollups;
ALTER TABLE contributor_share_ranks
    ADD PRIMARY KEY (tenant_id, grain, period_start, kind, scope, contributor);
CREATE INDEX contributor_share_ranks_by_shares ON contributor_share_ranks
    (tenant_id, grain, period_start, kind, scope, shares DESC, contributor);
DROP INDEX contributor_rollups_by_shares;
-- Statistics now: the shares ranking's reads are planned from them (a data set of
-- millions of rows would otherwise wait for autovacuum's first analyze).
ANALYZE contributor_share_ranks;

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
    ), c AS MATERIALIZED (
        SELECT c.tenant_id, c.grain, c.period_start, c.kind, c.scope, c.contributor,
            sum(c.n) AS shares, sum(c.clicks) AS clicks, sum(c.reactions) AS reactions,
            sum(c.comments) AS comments, sum(c.reshares) AS reshares,
            sum(c.clicks + c.reactions + c.comments + c.reshares) AS engagement
        FROM (
            -- contributor_scopes(), spelled out as joins: no per-row function call.
            SELECT d.*, g.grain, date_trunc(g.grain, d.posted_at, 'UTC') AS period_start,
                k.kind, '' AS scope, k.contributor
            FROM d CROSS JOIN (VALUES ('week'), ('month'), ('year')) AS g(grain)
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
