-- Contributor rankings per UTC week, month and year, so a top-contributors bucket
-- that is (nearly) one such period reads its top rows through an index instead of
-- summing and sorting every advocate's rollup rows.
--
-- A bucket = one rollup period P ± signed slivers at its edges (the nearest
-- boundaries, as in kpis/rollup.py). Contributors with shares in the slivers (set A)
-- get exact figures (P's row + slivers); every other contributor's figure is P's row.
--
-- Both figures are indexed exactly, in the report's order (figure DESC, contributor):
-- a report reads P's rows in that order down to a cut, then sorts exact figures
-- (see kpis/repository.py, `_top_from_ranked`): about N rows plus the contributors
-- of the slivers, whatever the tenant's size. (A banded engagement index, to keep
-- click updates HOT, was tried: with small per-week figures nearly every click
-- changed the band, so it saved nothing and made the cut read whole bands.)
--
-- One row per (period, kind, scope, contributor): kind 'advocate' or 'team' (a share
-- counts for each of its teams, as in the report); scope is what the report filters
-- on: '' (everything) in every grain; in years also 'n:<network>', and for advocates
-- 't:<team>' and 't:<team>|n:<network>' (a team's advocates). Teams filtered by a
-- team are that team's own row. Filtered weeks and months (small slices) and
-- campaign or advocate filters keep the other paths.
--
-- Maintained by the same statement-level triggers as share_rollups (one statement,
-- both tables, in the writer's transaction).
CREATE TABLE contributor_rollups (
    tenant_id       text        NOT NULL,
    grain           text        NOT NULL CHECK (grain IN ('week', 'month', 'year')),
    period_start    timestamptz NOT NULL,
    kind            text        NOT NULL CHECK (kind IN ('advocate', 'team')),
    scope           text        NOT NULL,
    contributor     text        NOT NULL,
    shares          bigint      NOT NULL,
    clicks          bigint      NOT NULL,
    reactions       bigint      NOT NULL,
    comments        bigint      NOT NULL,
    reshares        bigint      NOT NULL,
    engagement      bigint      NOT NULL
);

-- The (kind, scope, contributor) rows one share counts in, per grain. An advocate
-- counts once per distinct team (a team filter keeps the share once); a team once
-- per entry of team_ids, as the report's unnest does.
CREATE FUNCTION contributor_scopes(grain text, advocate text, network text, teams text[])
RETURNS TABLE (kind text, scope text, contributor text)
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT 'advocate', '', advocate
    UNION ALL
    SELECT 'team', '', t FROM unnest(teams) AS t
    UNION ALL
    SELECT 'advocate', 'n:' || network, advocate WHERE grain = 'year'
    UNION ALL
    SELECT 'team', 'n:' || network, t FROM unnest(teams) AS t WHERE grain = 'year'
    UNION ALL
    SELECT 'advocate', v.s, advocate
    FROM (SELECT DISTINCT t FROM unnest(teams) AS t) AS u
    CROSS JOIN LATERAL (VALUES ('t:' || u.t), ('t:' || u.t || '|n:' || network)) AS v(s)
    WHERE grain = 'year'
$$;

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
        engagement = r.engagement + excluded.engagement;
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
        engagement = r.engagement + excluded.engagement;
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
        engagement = r.engagement + excluded.engagement;
    RETURN NULL;
END
$$;

-- Trigger statements group a batch's deltas in memory rather than on disk.
ALTER FUNCTION share_rollups_on_insert() SET work_mem = '32MB';
ALTER FUNCTION share_rollups_on_update() SET work_mem = '32MB';
ALTER FUNCTION share_rollups_on_delete() SET work_mem = '32MB';

-- Shares recorded before this migration; the indexes are built after, in bulk.
SET LOCAL work_mem = '256MB';
SET LOCAL maintenance_work_mem = '256MB';
INSERT INTO contributor_rollups (tenant_id, grain, period_start, kind, scope, contributor,
    shares, clicks, reactions, comments, reshares, engagement)
SELECT * FROM (
    SELECT s.tenant_id, g.grain, date_trunc(g.grain, s.posted_at, 'UTC'), c.kind, c.scope,
        c.contributor, count(*) AS shares, sum(s.clicks), sum(s.reactions), sum(s.comments),
        sum(s.reshares), sum(s.clicks + s.reactions + s.comments + s.reshares)::bigint AS engagement
    FROM shares AS s CROSS JOIN (VALUES ('week'), ('month'), ('year')) AS g(grain)
    CROSS JOIN LATERAL contributor_scopes(g.grain, s.advocate_id, s.network, s.team_ids) AS c
    GROUP BY 1, 2, 3, 4, 5, 6
) AS backfill;

ALTER TABLE contributor_rollups
    ADD PRIMARY KEY (tenant_id, grain, period_start, kind, scope, contributor);
CREATE INDEX contributor_rollups_by_shares ON contributor_rollups
    (tenant_id, grain, period_start, kind, scope, shares DESC, contributor);
CREATE INDEX contributor_rollups_by_engagement ON contributor_rollups
    (tenant_id, grain, period_start, kind, scope, engagement DESC, contributor);
-- Statistics now: reports planned before autovacuum gets to a big new table would
-- guess its size.
ANALYZE contributor_rollups;
