-- Team and campaign filters of the KPIs: `$1 = ANY(team_ids)` can use these.
-- Neither column changes after a share is recorded, so totals updates stay HOT.
CREATE INDEX shares_teams ON shares USING gin (team_ids);
CREATE INDEX shares_campaigns ON shares USING gin (campaign_hashtags);
