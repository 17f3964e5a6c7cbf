-- Pre-aggregated share totals per UTC day and UTC month, for the top-contributors
-- KPI: a year-wide report reads a few rows per advocate and month instead of every
-- share. Keyed by the dimensions the KPI filters on that are stable per advocate
-- (network, teams), so those filters apply to rollup rows exactly as to shares; a
-- campaign filter (campaigns vary per share) reads the shares. Maintained by
-- statement-level triggers on `shares` (transition tables: one set-based upsert
-- per statement, whatever writes the share: ingestion, the shares consumer, COPY),
-- in the writer's transaction, so a report never sees a rollup that disagrees
-- with the shares it summarises.
CREATE TABLE share_rollups (
    tenant_id          text        NOT NULL,
    grain              text        NOT NULL CHECK (grain IN ('day', 'month')),
    period_start       timestamptz NOT NULL,
    advocate_id        text        NOT NULL,
    network            text        NOT NULL,
    team_ids           text[]      NOT NULL,
    shares             bigint      NOT NULL,
    clicks             bigint      NOT NULL,
    reactions          bigint      NOT NULL,
    comments           bigint      NOT NULL,
    reshares           bigint      NOT NULL,
    PRIMARY KEY (tenant_id, grain, period_start, advocate_id, network, team_ids)
) WITH (fillfactor = 70);  -- room for in-place (HOT) updates of the sums

-- Rollup rows are upserted sorted, so two writers touching the same rows lock them
-- in the same order.
-- INSERT: every new share counts; DELETE: every removed one is taken back;
-- UPDATE: only shares whose totals or dimensions changed (the flusher's updates
-- of the emitted_* columns add nothing and are filtered out before grouping).
CREATE FUNCTION share_rollups_on_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO share_rollups AS r (tenant_id, grain, period_start, advocate_id, network,
        team_ids, shares, clicks, reactions, comments, reshares)
    SELECT d.tenant_id, g.grain, date_trunc(g.grain, d.posted_at, 'UTC'), d.advocate_id,
        d.network, d.team_ids, count(*), sum(d.clicks),
        sum(d.reactions), sum(d.comments), sum(d.reshares)
    FROM new_rows AS d CROSS JOIN (VALUES ('day'), ('month')) AS g(grain)
    GROUP BY 1, 2, 3, 4, 5, 6
    ORDER BY 1, 2, 3, 4, 5, 6
    ON CONFLICT (tenant_id, grain, period_start, advocate_id, network, team_ids)
    DO UPDATE SET shares = r.shares + excluded.shares, clicks = r.clicks + excluded.clicks,
        reactions = r.reactions + excluded.reactions,
        comments = r.comments + excluded.comments,
        reshares = r.reshares + excluded.reshares;
    RETURN NULL;
END
$$;

CREATE FUNCTION share_rollups_on_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Ingestion only moves totals: one delta row per share. A share whose
    -- dimensions changed (not done today) is moved: taken back, then added.
    INSERT INTO share_rollups AS r (tenant_id, grain, period_start, advocate_id, network,
        team_ids, shares, clicks, reactions, comments, reshares)
    SELECT d.tenant_id, g.grain, date_trunc(g.grain, d.posted_at, 'UTC'), d.advocate_id,
        d.network, d.team_ids, sum(d.n), sum(d.clicks),
        sum(d.reactions), sum(d.comments), sum(d.reshares)
    FROM (
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
    ) AS d
    CROSS JOIN (VALUES ('day'), ('month')) AS g(grain)
    GROUP BY 1, 2, 3, 4, 5, 6
    HAVING sum(d.n) <> 0 OR sum(d.clicks) <> 0 OR sum(d.reactions) <> 0
        OR sum(d.comments) <> 0 OR sum(d.reshares) <> 0
    ORDER BY 1, 2, 3, 4, 5, 6
    ON CONFLICT (tenant_id, grain, period_start, advocate_id, network, team_ids)
    DO UPDATE SET shares = r.shares + excluded.shares, clicks = r.clicks + excluded.clicks,
        reactions = r.reactions + excluded.reactions,
        comments = r.comments + excluded.comments,
        reshares = r.reshares + excluded.reshares;
    RETURN NULL;
END
$$;

CREATE FUNCTION share_rollups_on_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO share_rollups AS r (tenant_id, grain, period_start, advocate_id, network,
        team_ids, shares, clicks, reactions, comments, reshares)
    SELECT d.tenant_id, g.grain, date_trunc(g.grain, d.posted_at, 'UTC'), d.advocate_id,
        d.network, d.team_ids, -count(*), -sum(d.clicks),
        -sum(d.reactions), -sum(d.comments), -sum(d.reshares)
    FROM old_rows AS d CROSS JOIN (VALUES ('day'), ('month')) AS g(grain)
    GROUP BY 1, 2, 3, 4, 5, 6
    ORDER BY 1, 2, 3, 4, 5, 6
    ON CONFLICT (tenant_id, grain, period_start, advocate_id, network, team_ids)
    DO UPDATE SET shares = r.shares + excluded.shares, clicks = r.clicks + excluded.clicks,
        reactions = r.reactions + excluded.reactions,
        comments = r.comments + excluded.comments,
        reshares = r.reshares + excluded.reshares;
    RETURN NULL;
END
$$;

-- Shares recorded before this migration.
INSERT INTO share_rollups (tenant_id, grain, period_start, advocate_id, network, team_ids,
    shares, clicks, reactions, comments, reshares)
SELECT s.tenant_id, g.grain, date_trunc(g.grain, s.posted_at, 'UTC'), s.advocate_id,
    s.network, s.team_ids, count(*), sum(s.clicks), sum(s.reactions),
    sum(s.comments), sum(s.reshares)
FROM shares AS s CROSS JOIN (VALUES ('day'), ('month')) AS g(grain)
GROUP BY 1, 2, 3, 4, 5, 6;

CREATE TRIGGER share_rollups_insert AFTER INSERT ON shares
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION share_rollups_on_insert();
CREATE TRIGGER share_rollups_update AFTER UPDATE ON shares
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION share_rollups_on_update();
CREATE TRIGGER share_rollups_delete AFTER DELETE ON shares
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION share_rollups_on_delete();
