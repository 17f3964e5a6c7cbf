-- The flusher's state moves out of `shares` into its own narrow table.
--
-- Before, ingestion set `shares.dirty_since` (indexed) and the flusher cleared it and
-- copied the totals into `shares.emitted_*`: two updates of every changed share per
-- flush cycle, neither HOT (an indexed column changed each time), so each wrote all
-- six indexes of `shares` (two of them GIN), and each fired the rollup trigger with
-- full transition tables. Now the totals update touches no indexed column (HOT when
-- the page has room) and the flusher never updates `shares` at all: it reads the
-- totals and writes what it emitted here.
CREATE TABLE share_emissions (
    tenant_id           text        NOT NULL,
    share_id            text        NOT NULL,
    dirty_since         timestamptz,
    last_emitted_at     timestamptz,
    sequence            integer     NOT NULL DEFAULT 0,
    emitted_clicks      bigint      NOT NULL DEFAULT 0,
    emitted_reactions   bigint      NOT NULL DEFAULT 0,
    emitted_comments    bigint      NOT NULL DEFAULT 0,
    emitted_reshares    bigint      NOT NULL DEFAULT 0,
    emitted_impressions bigint      NOT NULL DEFAULT 0,
    emitted_rejected    jsonb       NOT NULL DEFAULT '{}',
    PRIMARY KEY (tenant_id, share_id)
) WITH (fillfactor = 80);
CREATE INDEX share_emissions_dirty ON share_emissions (dirty_since)
    WHERE dirty_since IS NOT NULL;

INSERT INTO share_emissions (tenant_id, share_id, dirty_since, last_emitted_at, sequence,
    emitted_clicks, emitted_reactions, emitted_comments, emitted_reshares,
    emitted_impressions, emitted_rejected)
SELECT tenant_id, share_id, dirty_since, last_emitted_at, sequence, emitted_clicks,
    emitted_reactions, emitted_comments, emitted_reshares, emitted_impressions,
    emitted_rejected
FROM shares
WHERE dirty_since IS NOT NULL OR sequence > 0 OR last_emitted_at IS NOT NULL;

DROP INDEX shares_dirty;
ALTER TABLE shares
    DROP COLUMN dirty_since,
    DROP COLUMN last_emitted_at,
    DROP COLUMN sequence,
    DROP COLUMN emitted_clicks,
    DROP COLUMN emitted_reactions,
    DROP COLUMN emitted_comments,
    DROP COLUMN emitted_reshares,
    DROP COLUMN emitted_impressions,
    DROP COLUMN emitted_rejected;
