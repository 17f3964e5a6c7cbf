-- Top-contributors reads of contributor_rollups become index-only: a report reads a
-- period's rows in ranking order only for (figure, contributor, shares) and fetches
-- the whole row of its few winners by primary key (kpis/repository.py). The shares
-- ranking index holds all three already; the engagement one gains shares.
-- Its entries change with every update of a row anyway (engagement moves with each
-- click, so those updates are never HOT): the extra column costs no extra writes.
SET LOCAL maintenance_work_mem = '256MB';
CREATE INDEX contributor_rollups_by_engagement_v2 ON contributor_rollups
    (tenant_id, grain, period_start, kind, scope, engagement DESC, contributor)
    INCLUDE (shares);
DROP INDEX contributor_rollups_by_engagement;
ALTER INDEX contributor_rollups_by_engagement_v2 RENAME TO contributor_rollups_by_engagement;
