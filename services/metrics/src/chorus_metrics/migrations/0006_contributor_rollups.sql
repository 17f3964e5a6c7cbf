-- Contributor rankings per UTC week, month and year, kept in rank order by indexes, so
-- a top-contributors bucket that is (nearly) one such period reads its top rows from
-- an index instead of summing and sorting every advocate's rollup rows.
--
-- A bucket = one rollup period P ± signed slivers at its edges (the nearest
-- boundaries, as in kpis/rollup.py). Contributors with shares in the slivers (set A)
-- get exact figures (P's row + slivers); every other contributor's figure is P's row,
-- so the top N of those are within the first N + |A| rows of P's index: the report
-- reads N + |A| index rows and |A| primary-key rows, whatever the tenant's size.
--
-- One row per (period, kind, scope, contributor): kind 'advocate' or 'team' (a share
-- counts for each of its teams, as in the report); scope is what the report filters
-- on: '' (everything), 'n:<network>', and for advocates 't:<team>' and
-- 't:<team>|n:<network>' (a team's advocates). Teams filtered by a team are that
-- team's own row. Campaign and advocate filters keep the shares query.
--
-- Maintained by the same statement-level triggers as share_rollups (one statement,
-- both tables, in the writer's transaction).
CREATE TABLE contributor_rollups (
    tenant_id    text        NOT NULL,
    grain        text        NOT NULL CHECK (grain IN ('week', 'month', 'year')),
    period_start timestamptz NOT NULL,
    kind         text        NOT NULL CHECK (kind IN ('advocate', 'team')),
    scope        text        NOT NULL,
    contributor  text        NOT NULL,
    shares       bigint      NOT NULL,
    clicks       bigint      NOT NULL,
    reactions    bigint      NOT NULL,
    comments     bigint      NOT NULL,
    reshares     bigint      NOT NULL,
    engagement   bigint      NOT NULL,
    PRIMARY KEY (tenant_id, grain, period_start, kind, scope, contributor)
);
CREATE INDEX contributor_rollups_by_shares ON contributor_rollups
    (tenant_id, grain, period_start, kind, scope, shares DESC, contributor);
CREATE INDEX contributor_rollups_by_engagement ON contributor_rollups
    (tenant_id, grain, period_start, kind, scope, engagement DESC, contributor);

-- The (kind, scope, contributor) rows one share counts in. An advocate counts once per
-- distinct team (a team filter keeps the share once); a team once per entry of
-- team_ids, as the report's unnest does.
CREATE FUNCTION contributor_scopes(advocate text, network text, teams text[])
RETURNS TABLE (kind text, scope text, contributor text)
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT 'advocate', s, advocate FROM unnest(ARRAY['', 'n:' || network]) AS s
    UNION ALL
    SELECT 'advocate', s, advocate FROM (SELECT DISTINCT t FROM unnest(teams) AS t) AS u
        CROSS JOIN LATERAL (VALUES ('t:' || u.t), ('t:' || u.t || '|n:' || network)) AS v(s)
    UNION ALL
    SELECT 'team', s, t FROM unnest(teams) AS t
        CROSS JOIN unnest(ARRAY['', 'n:' || network]) AS s
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
    SELECT d.tenant_id, g.grain, date_trunc(g.grain, d.posted_at, 'UTC'), c.kind, c.scope,
        c.contributor, sum(d.n), sum(d.clicks), sum(d.reactions), sum(d.comments),
        sum(d.reshares), sum(d.clicks + d.reactions + d.comments + d.reshares)
    FROM d CROSS JOIN (VALUES ('week'), ('month'), ('year')) AS g(grain)
    CROSS JOIN LATERAL contributor_scopes(d.advocate_id, d.network, d.team_ids) AS c
    GROUP BY 1, 2, 3, 4, 5, 6
    HAVING sum(d.n) <> 0 OR sum(d.clicks) <> 0 OR sum(d.reactions) <> 0
        OR sum(d.comments) <> 0 OR sum(d.reshares) <> 0
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
    SELECT d.tenant_id, g.grain, date_trunc(g.grain, d.posted_at, 'UTC'), c.kind, c.scope,
        c.contributor, sum(d.n), sum(d.clicks), sum(d.reactions), sum(d.comments),
        sum(d.reshares), sum(d.clicks + d.reactions + d.comments + d.reshares)
    FROM d CROSS JOIN (VALUES ('week'), ('month'), ('year')) AS g(grain)
    CROSS JOIN LATERAL contributor_scopes(d.advocate_id, d.network, d.team_ids) AS c
    GROUP BY 1, 2, 3, 4, 5, 6
    HAVING sum(d.n) <> 0 OR sum(d.clicks) <> 0 OR sum(d.reactions) <> 0
        OR sum(d.comments) <> 0 OR sum(d.reshares) <> 0
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
    SELECT d.tenant_id, g.grain, date_trunc(g.grain, d.posted_at, 'UTC'), c.kind, c.scope,
        c.contributor, sum(d.n), sum(d.clicks), sum(d.reactions), sum(d.comments),
        sum(d.reshares), sum(d.clicks + d.reactions + d.comments + d.reshares)
    FROM d CROSS JOIN (VALUES ('week'), ('month'), ('year')) AS g(grain)
    CROSS JOIN LATERAL contributor_scopes(d.advocate_id, d.network, d.team_ids) AS c
    GROUP BY 1, 2, 3, 4, 5, 6
    HAVING sum(d.n) <> 0 OR sum(d.clicks) <> 0 OR sum(d.reactions) <> 0
        OR sum(d.comments) <> 0 OR sum(d.reshares) <> 0
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

-- Shares recorded before this migration.
INSERT INTO contributor_rollups (tenant_id, grain, period_start, kind, scope, contributor,
    shares, clicks, reactions, comments, reshares, engagement)
SELECT s.tenant_id, g.grain, date_trunc(g.grain, s.posted_at, 'UTC'), c.kind, c.scope,
    c.contributor, count(*), sum(s.clicks), sum(s.reactions), sum(s.comments),
    sum(s.reshares), sum(s.clicks + s.reactions + s.comments + s.reshares)
FROM shares AS s CROSS JOIN (VALUES ('week'), ('month'), ('year')) AS g(grain)
CROSS JOIN LATERAL contributor_scopes(s.advocate_id, s.network, s.team_ids) AS c
GROUP BY 1, 2, 3, 4, 5, 6;
