-- Committed state of the Redis boards (see chorus_rewards.standings): per advocate and
-- scope, the all-time values and those of the latest month/week/day bucket, for the
-- metrics points, engagement, reach, with their reach times (epoch ms, 0 = none).
CREATE TABLE standings (
    tenant_id   text     NOT NULL,
    advocate_id text     NOT NULL,
    scope       text     NOT NULL,  -- tenant | team:<id> | tag:<#hashtag>
    buckets     int[]    NOT NULL,  -- month, week, day
    vals        bigint[] NOT NULL,  -- [period][metric], periods all, month, week, day
    reached     bigint[] NOT NULL,
    PRIMARY KEY (tenant_id, advocate_id, scope)
);
