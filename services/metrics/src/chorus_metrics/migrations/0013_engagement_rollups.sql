-- Engagement rolled up by its own time, for the reports bucketed by it (traffic,
-- engagement per network).
--
-- Those reports read every click and reported row of their period: on 10 M engagements
-- a year took 10-30 s. engagement_rollups holds, per UTC quarter hour, hour, day and
-- month, the
-- counts of valid and rejected clicks (outcome = '' or the rejection reason) and of
-- valid reported engagement (applied counts), per network of the share. A report reads
-- the periods between the nearest boundaries plus signed slivers (kpis/rollup.py
-- `engagement_pieces`): quarter hours serve the edges of half- and quarter-hour zones
-- (India, Nepal), so no report reads raw rows but for a range that starts or ends off
-- a quarter hour.
--
-- Maintained like the contributor rollups (0009): statement triggers on clicks and
-- reported append grouped deltas (no index, a cheap append in the writer's
-- transaction, so effectively-once holds); fold_engagement_rollups() deletes them and
-- upserts them in one statement. Reports add the unfolded deltas (few: one fold
-- interval's worth, grouped per batch), so they stay exact and current.
SELECT pg_advisory_xact_lock(hashtext('chorus_metrics'), hashtext('engagement_rollups'));
-- Writers wait for the backfill: nothing committed between its snapshot and the
-- triggers can be missed (a few seconds per million rows).
LOCK TABLE clicks, reported IN SHARE MODE;

CREATE TABLE engagement_rollups (
    tenant_id    text        NOT NULL,
    grain        text        NOT NULL CHECK (grain IN ('minutes15', 'hour', 'day', 'month')),
    period_start timestamptz NOT NULL,
    network      text        NOT NULL,
    kind         text        NOT NULL,  -- clicks, or the reported kind
    outcome      text        NOT NULL,  -- '' valid, else the rejection reason (clicks)
    n            bigint      NOT NULL,
    PRIMARY KEY (tenant_id, grain, period_start, network, kind, outcome)
) WITH (fillfactor = 80);  -- a fold changes n only: HOT updates

CREATE TABLE engagement_rollup_deltas (
    tenant_id text        NOT NULL,
    at        timestamptz NOT NULL,  -- the UTC quarter hour
    network   text        NOT NULL,
    kind      text        NOT NULL,
    outcome   text        NOT NULL,
    n         bigint      NOT NULL
) WITH (
    autovacuum_vacuum_scale_factor = 0,
    autovacuum_vacuum_threshold = 20000,
    autovacuum_vacuum_insert_scale_factor = 0,
    autovacuum_vacuum_insert_threshold = 20000,
    autovacuum_vacuum_cost_delay = 0
);

-- Clicks count once judged (a pending click's share is unknown), under their outcome;
-- an update (a verdict, a late rejection) moves the click from old to new outcome, a
-- delete takes it back. Grouped per share first, then the share's network looked up
-- once per group. EXECUTE: planned at every run with the transition table's real row
-- count and the shares' current statistics (index probes for a batch, a hash join for a
-- bulk COPY); a plan cached from a session's first, tiny batch was seen scanning
-- `shares` once per group. date_bin: UTC quarter hours by arithmetic.
CREATE FUNCTION engagement_rows(op text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    -- The changed rows of a statement with their sign, from its transition tables.
    SELECT CASE op
        WHEN 'INSERT' THEN 'SELECT *, 1 AS sign FROM new_rows'
        WHEN 'DELETE' THEN 'SELECT *, -1 AS sign FROM old_rows'
        ELSE 'SELECT *, -1 AS sign FROM old_rows UNION ALL SELECT *, 1 FROM new_rows'
    END
$$;

CREATE FUNCTION engagement_rollups_of_clicks() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format($q$
        INSERT INTO engagement_rollup_deltas (tenant_id, at, network, kind, outcome, n)
        SELECT g.tenant_id, g.at, s.network, 'clicks', g.outcome, sum(g.n)
        FROM (
            SELECT tenant_id, share_id, date_bin('15 minutes', occurred_at, '2000-01-01Z') AS at,
                coalesce(reason, '') AS outcome, sum(sign) AS n
            FROM (%s) AS changed WHERE status <> 'pending'
            GROUP BY 1, 2, 3, 4 HAVING sum(sign) <> 0
        ) AS g
        JOIN shares s ON s.tenant_id = g.tenant_id AND s.share_id = g.share_id
        GROUP BY 1, 2, 3, 5
    $q$, engagement_rows(TG_OP));
    RETURN NULL;
END
$$;

-- Reported engagement counts its applied amount once valid, in the network of its share
-- (as the reports always attributed it).
CREATE FUNCTION engagement_rollups_of_reported() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format($q$
        INSERT INTO engagement_rollup_deltas (tenant_id, at, network, kind, outcome, n)
        SELECT g.tenant_id, g.at, s.network, g.kind, '', sum(g.n)
        FROM (
            SELECT tenant_id, share_id, date_bin('15 minutes', occurred_at, '2000-01-01Z') AS at,
                kind, sum(sign * applied) AS n
            FROM (%s) AS changed WHERE status = 'valid'
            GROUP BY 1, 2, 3, 4 HAVING sum(sign * applied) <> 0
        ) AS g
        JOIN shares s ON s.tenant_id = g.tenant_id AND s.share_id = g.share_id
        GROUP BY 1, 2, 3, 4
    $q$, engagement_rows(TG_OP));
    RETURN NULL;
END
$$;

CREATE TRIGGER engagement_rollups_insert AFTER INSERT ON clicks
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION engagement_rollups_of_clicks();
CREATE TRIGGER engagement_rollups_update AFTER UPDATE ON clicks
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION engagement_rollups_of_clicks();
CREATE TRIGGER engagement_rollups_delete AFTER DELETE ON clicks
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION engagement_rollups_of_clicks();
CREATE TRIGGER engagement_rollups_insert AFTER INSERT ON reported
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION engagement_rollups_of_reported();
CREATE TRIGGER engagement_rollups_update AFTER UPDATE ON reported
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION engagement_rollups_of_reported();
CREATE TRIGGER engagement_rollups_delete AFTER DELETE ON reported
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION engagement_rollups_of_reported();

CREATE FUNCTION fold_engagement_rollups() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    n_folded bigint;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('chorus_metrics'), hashtext('engagement_rollups'));
    WITH pending AS MATERIALIZED (
        DELETE FROM engagement_rollup_deltas
        RETURNING tenant_id, at, network, kind, outcome, n
    ), c AS (
        SELECT p.tenant_id, g.grain, CASE g.grain WHEN 'minutes15' THEN p.at
            ELSE date_trunc(g.grain, p.at, 'UTC') END AS period_start,
            p.network, p.kind, p.outcome, sum(p.n) AS n
        FROM pending p CROSS JOIN (VALUES ('minutes15'), ('hour'), ('day'), ('month')) AS g(grain)
        GROUP BY 1, 2, 3, 4, 5, 6
        HAVING sum(p.n) <> 0
    ), folded AS (
        INSERT INTO engagement_rollups AS r (tenant_id, grain, period_start, network, kind,
            outcome, n)
        SELECT * FROM c
        ORDER BY 1, 2, 3, 4, 5, 6
        ON CONFLICT (tenant_id, grain, period_start, network, kind, outcome)
        DO UPDATE SET n = r.n + excluded.n
    )
    SELECT count(*) INTO n_folded FROM pending;
    RETURN n_folded;
END
$$;

-- Backfill: every judged click and valid reported row so far, by quarter hour first.
SET LOCAL work_mem = '256MB';
INSERT INTO engagement_rollup_deltas (tenant_id, at, network, kind, outcome, n)
SELECT c.tenant_id, date_bin('15 minutes', c.occurred_at, '2000-01-01Z'), s.network, 'clicks',
    coalesce(c.reason, ''), count(*)
FROM clicks c JOIN shares s ON s.tenant_id = c.tenant_id AND s.share_id = c.share_id
WHERE c.status <> 'pending'
GROUP BY 1, 2, 3, 5;
INSERT INTO engagement_rollup_deltas (tenant_id, at, network, kind, outcome, n)
SELECT r.tenant_id, date_bin('15 minutes', r.occurred_at, '2000-01-01Z'), s.network, r.kind, '',
    sum(r.applied)
FROM reported r JOIN shares s ON s.tenant_id = r.tenant_id AND s.share_id = r.share_id
WHERE r.status = 'valid'
GROUP BY 1, 2, 3, 4
HAVING sum(r.applied) <> 0;
SELECT fold_engagement_rollups();
ANALYZE engagement_rollups;
