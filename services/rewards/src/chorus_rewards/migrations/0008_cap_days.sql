-- Cap usage becomes one row per advocate and local day, with the points granted per
-- action in one array (`rules.Action` declaration order: share, click, reaction,
-- comment, reshare, impressions; a missing tail counts as 0). An engagement event
-- touches up to five actions of one day: one row (one primary-key probe to load, one
-- upsert) instead of one per action.
CREATE TABLE cap_days (
    tenant_id   text  NOT NULL,
    advocate_id text  NOT NULL,
    day         int   NOT NULL,  -- proleptic ordinal of the local date
    granted     int[] NOT NULL,
    PRIMARY KEY (tenant_id, advocate_id, day)
) WITH (fillfactor = 80);  -- room for in-place (HOT) updates later the same day

INSERT INTO cap_days (tenant_id, advocate_id, day, granted)
SELECT tenant_id, advocate_id, day, ARRAY[
    coalesce(max(granted) FILTER (WHERE action = 'share'), 0),
    coalesce(max(granted) FILTER (WHERE action = 'click'), 0),
    coalesce(max(granted) FILTER (WHERE action = 'reaction'), 0),
    coalesce(max(granted) FILTER (WHERE action = 'comment'), 0),
    coalesce(max(granted) FILTER (WHERE action = 'reshare'), 0),
    coalesce(max(granted) FILTER (WHERE action = 'impressions'), 0)]
FROM cap_usage GROUP BY tenant_id, advocate_id, day;

DROP TABLE cap_usage;

-- Rows the consumer updates in place batch after batch: with full pages (the default
-- fillfactor 100) most of those updates could not stay on their page, so each also
-- inserted a new primary-key entry (measured: ~70% of account updates, ~35% of
-- standings updates). Applies to pages written from now on.
ALTER TABLE accounts SET (fillfactor = 70);
ALTER TABLE standings SET (fillfactor = 80);
ALTER TABLE share_progress SET (fillfactor = 80);
