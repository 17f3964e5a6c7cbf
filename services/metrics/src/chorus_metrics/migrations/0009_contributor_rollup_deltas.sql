-- Contributor rollups are folded in sets instead of updated by every batch.
--
-- Since 0006 every batch of clicks updated ~8 contributor_rollups rows per changed
-- share (week, month and year; advocate and team; the year's scopes), none of them HOT
-- (the ranking indexes hold the figures): most of ingestion's PostgreSQL time. Now the
-- share triggers append one delta row per changed share to contributor_rollup_deltas
-- (no index: a cheap append, in the writer's transaction, so effectively-once holds),
-- and fold_contributor_rollups() deletes the pending deltas and applies them in ONE
-- grouped upsert, in the same transaction. A fold every 2 s (its own worker,
-- aggregation/rollup_fold.py) writes each (period, scope, contributor) row once however
-- many clicks it got meanwhile. share_rollups stay maintained inline.
--
-- Reads of contributor_rollups see what was folded: the deltas since the last fold
-- are not in the rankings yet. Tests and benches call the fold before reading.
--
-- Nothing to backfill: contributor_rollups is current when this applies, the delta
-- table starts empty (instant on the 10 M data set: one CREATE TABLE, five functions).
CREATE TABLE contributor_rollup_deltas (
    tenant_id   text        NOT NULL,
    posted_at   timestamptz NOT NULL,
    advocate_id text        NOT NULL,
    network     text        NOT NULL,
    team_ids    text[]      NOT NULL,
    shares      bigint      NOT NULL,  -- +1 / -1 when a share is added / taken back
    clicks      bigint      NOT NULL,
    reactions   bigint      NOT NULL,
    comments    bigint      NOT NULL,
    reshares    bigint      NOT NULL
) WITH (
    -- Appended and emptied every second: vacuum it often, so appends reuse its pages
    -- and folds do not scan a growing tail of dead rows.
    autovacuum_vacuum_scale_factor = 0,
    autovacuum_vacuum_threshold = 20000,
    autovacuum_vacuum_insert_scale_factor = 0,
    autovacuum_vacuum_insert_threshold = 20000,
    autovacuum_vacuum_cost_delay = 0
);

-- The triggers of 0006, with the contributor upsert replaced by the delta append.
CREATE OR REPLACE FUNCTION share_rollups_on_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Every new share counts, in both rollups.
    WITH d AS MATERIALIZED (
        SELECT tenant_id, posted_at, advocate_id, network, team_ids, 1 AS n, clicks,
            reactions, comments, reshares FROM new_rows
    ), shares_rolled AS (
        INSERT INTO share_rollups AS r (tenant_id, grain, period_start, advocate_id,
            network, team_ids, shares, clicks, reactions, comments, reshares)
        SELECT d.tenant_id, g.grain, date_trunc(g.grain, d.posted_at, 'UTC'), d.advocate_id,
            d.network, d.team_ids, sum(d.n), sum(d.clicks), sum(d.reactions), sum(d.comments),
            sum(d.reshares)
        FROM d CROSS JOIN (VALUES ('day'), ('month')) AS g(grain)
        GROUP BY 1, 2, 3, 4, 5, 6
        HAVING sum(d.n) <> 0 OR sum(d.clicks) <> 0 OR sum(d.reactions) <> 0
            OR sum(d.comments) <> 0 OR sum(d.reshares) <> 0
        ORDER BY 1, 2, 3, 4, 5, 6
        ON CONFLICT (tenant_id, grain, period_start, advocate_id, network, team_ids)
        DO UPDATE SET shares = r.shares + excluded.shares, clicks = r.clicks + excluded.clicks,
            reactions = r.reactions + excluded.reactions,
            comments = r.comments + excluded.comments,
            reshares = r.reshares + excluded.reshares
        RETURNING 1
    )
    INSERT INTO contributor_rollup_deltas (tenant_id, posted_at, advocate_id, network,
        team_ids, shares, clicks, reactions, comments, reshares)
    SELECT * FROM d WHERE (d.n, d.clicks, d.reactions, d.comments, d.reshares)
        <> (0, 0, 0, 0, 0);
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION share_rollups_on_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Totals moved (one delta row per share), or a share moved: taken back, then added.
    WITH d AS MATERIALIZED (
        SELECT * FROM (
                SELECT n.tenant_id, n.posted_at, n.advocate_id, n.network, n.team_ids, 0 AS n,
                    n.clicks - o.clicks AS clicks,
                    n.reactions - o.reactions AS reactions, n.comments - o.comments AS comments,
                    n.reshares - o.reshares AS reshares
                FROM old_rows AS o JOIN new_rows AS n
                    ON n.tenant_id = o.tenant_id AND n.share_id = o.share_id
                WHERE (n.posted_at, n.advocate_id, n.network, n.team_ids)
                    = (o.posted_at, o.advocate_id, o.network, o.team_ids)
                  AND (n.clicks, n.reactions, n.comments, n.reshares)
                    <> (o.clicks, o.reactions, o.comments, o.reshares)
                UNION ALL
                SELECT m.tenant_id, m.posted_at, m.advocate_id, m.network, m.team_ids, m.n, m.n * m.clicks, m.n * m.reactions, m.n * m.comments,
                    m.n * m.reshares
                FROM old_rows AS o JOIN new_rows AS n
                    ON n.tenant_id = o.tenant_id AND n.share_id = o.share_id
                CROSS JOIN LATERAL (VALUES
                    (-1, o.tenant_id, o.posted_at, o.advocate_id, o.network, o.team_ids,
                     o.clicks, o.reactions, o.comments, o.reshares),
                    (1, n.tenant_id, n.posted_at, n.advocate_id, n.network, n.team_ids,
                     n.clicks, n.reactions, n.comments, n.reshares)
                ) AS m(n, tenant_id, posted_at, advocate_id, network, team_ids,
                       clicks, reactions, comments, reshares)
                WHERE (n.posted_at, n.advocate_id, n.network, n.team_ids)
                    IS DISTINCT FROM (o.posted_at, o.advocate_id, o.network, o.team_ids)
            ) AS u
    ), shares_rolled AS (
        INSERT INTO share_rollups AS r (tenant_id, grain, period_start, advocate_id,
            network, team_ids, shares, clicks, reactions, comments, reshares)
        SELECT d.tenant_id, g.grain, date_trunc(g.grain, d.posted_at, 'UTC'), d.advocate_id,
            d.network, d.team_ids, sum(d.n), sum(d.clicks), sum(d.reactions), sum(d.comments),
            sum(d.reshares)
        FROM d CROSS JOIN (VALUES ('day'), ('month')) AS g(grain)
        GROUP BY 1, 2, 3, 4, 5, 6
        HAVING sum(d.n) <> 0 OR sum(d.clicks) <> 0 OR sum(d.reactions) <> 0
            OR sum(d.comments) <> 0 OR sum(d.reshares) <> 0
        ORDER BY 1, 2, 3, 4, 5, 6
        ON CONFLICT (tenant_id, grain, period_start, advocate_id, network, team_ids)
        DO UPDATE SET shares = r.shares + excluded.shares, clicks = r.clicks + excluded.clicks,
            reactions = r.reactions + excluded.reactions,
            comments = r.comments + excluded.comments,
            reshares = r.reshares + excluded.reshares
        RETURNING 1
    )
    INSERT INTO contributor_rollup_deltas (tenant_id, posted_at, advocate_id, network,
        team_ids, shares, clicks, reactions, comments, reshares)
    SELECT * FROM d WHERE (d.n, d.clicks, d.reactions, d.comments, d.reshares)
        <> (0, 0, 0, 0, 0);
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION share_rollups_on_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Every removed share is taken back.
    WITH d AS MATERIALIZED (
        SELECT tenant_id, posted_at, advocate_id, network, team_ids, -1 AS n, -clicks AS clicks,
            -reactions AS reactions, -comments AS comments, -reshares AS reshares FROM old_rows
    ), shares_rolled AS (
        INSERT INTO share_rollups AS r (tenant_id, grain, period_start, advocate_id,
            network, team_ids, shares, clicks, reactions, comments, reshares)
        SELECT d.tenant_id, g.grain, date_trunc(g.grain, d.posted_at, 'UTC'), d.advocate_id,
            d.network, d.team_ids, sum(d.n), sum(d.clicks), sum(d.reactions), sum(d.comments),
            sum(d.reshares)
        FROM d CROSS JOIN (VALUES ('day'), ('month')) AS g(grain)
        GROUP BY 1, 2, 3, 4, 5, 6
        HAVING sum(d.n) <> 0 OR sum(d.clicks) <> 0 OR sum(d.reactions) <> 0
            OR sum(d.comments) <> 0 OR sum(d.reshares) <> 0
        ORDER BY 1, 2, 3, 4, 5, 6
        ON CONFLICT (tenant_id, grain, period_start, advocate_id, network, team_ids)
        DO UPDATE SET shares = r.shares + excluded.shares, clicks = r.clicks + excluded.clicks,
            reactions = r.reactions + excluded.reactions,
            comments = r.comments + excluded.comments,
            reshares = r.reshares + excluded.reshares
        RETURNING 1
    )
    INSERT INTO contributor_rollup_deltas (tenant_id, posted_at, advocate_id, network,
        team_ids, shares, clicks, reactions, comments, reshares)
    SELECT * FROM d WHERE (d.n, d.clicks, d.reactions, d.comments, d.reshares)
        <> (0, 0, 0, 0, 0);
    RETURN NULL;
END
$$;

-- Apply every pending delta: one DELETE ... RETURNING and one grouped upsert, in key
-- order, in the caller's transaction. Folds run one at a time (a transaction-scoped
-- advisory lock, two-key space): a "fold now" waits for a running fold, then folds
-- everything committed before it. Returns how many delta rows were folded.
CREATE FUNCTION fold_contributor_rollups() RETURNS bigint LANGUAGE plpgsql AS $$
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
