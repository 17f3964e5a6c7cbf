-- The points ledger: the source of truth. Append-only; every entry names its cause
-- (the event, or the redemption) and the rules version that valued it.
CREATE TABLE ledger (
    id            bigserial   PRIMARY KEY,
    tenant_id     text        NOT NULL,
    advocate_id   text        NOT NULL,
    kind          text        NOT NULL CHECK (kind IN ('share', 'engagement', 'redemption', 'refund')),
    points        int         NOT NULL,
    engagement    int         NOT NULL DEFAULT 0,  -- change of valid clicks+reactions+comments+reshares
    reach         bigint      NOT NULL DEFAULT 0,  -- change of valid impressions
    breakdown     jsonb       NOT NULL DEFAULT '{}',
    rule_version  int,
    event_id      text,
    share_id      text,
    redemption_id bigint,
    team_ids      text[]      NOT NULL DEFAULT '{}',
    hashtags      text[]      NOT NULL DEFAULT '{}',  -- normalised (casefolded)
    occurred_at   timestamptz NOT NULL,               -- the event's time: decides periods
    recorded_at   timestamptz NOT NULL DEFAULT now(),
    CHECK ((event_id IS NOT NULL AND rule_version IS NOT NULL) OR redemption_id IS NOT NULL)
);
-- A second line of defence behind the consumer's tracking table: one entry per event.
CREATE UNIQUE INDEX ledger_event ON ledger (tenant_id, event_id) WHERE event_id IS NOT NULL;
CREATE UNIQUE INDEX ledger_redemption ON ledger (redemption_id, kind) WHERE redemption_id IS NOT NULL;
CREATE INDEX ledger_advocate ON ledger (tenant_id, advocate_id, occurred_at);

-- One row per advocate: the balance, and the lock every writer of the advocate's
-- rows takes first (consumer batches, redemptions), so they serialise per advocate.
CREATE TABLE accounts (
    tenant_id    text   NOT NULL,
    advocate_id  text   NOT NULL,
    balance      bigint NOT NULL DEFAULT 0,   -- sum of all ledger entries
    earned       bigint NOT NULL DEFAULT 0,   -- sum of earning entries (share, engagement)
    shares       int    NOT NULL DEFAULT 0,   -- rewardable shares (not Facebook)
    streak_week  int,                         -- local week (Monday ordinal) of the last share
    streak_weeks int    NOT NULL DEFAULT 0,   -- consecutive weeks with a share, up to streak_week
    PRIMARY KEY (tenant_id, advocate_id)
);

-- Shares seen on share.posted: one points entry per share id, raffle weights.
CREATE TABLE shares (
    tenant_id   text        NOT NULL,
    share_id    text        NOT NULL,
    advocate_id text        NOT NULL,
    network     text        NOT NULL,
    rewardable  boolean     NOT NULL,  -- false where the network forbids rewarding posting
    team_ids    text[]      NOT NULL,
    hashtags    text[]      NOT NULL,  -- normalised
    posted_at   timestamptz NOT NULL,
    event_id    text        NOT NULL,
    PRIMARY KEY (tenant_id, share_id)
);
CREATE INDEX shares_posted ON shares (tenant_id, posted_at);

-- Per share: the engagement totals already accounted for, at which sequence, and
-- the points paid per action (click, reaction, comment, reshare, impressions).
CREATE TABLE share_progress (
    tenant_id   text     NOT NULL,
    share_id    text     NOT NULL,
    advocate_id text     NOT NULL,
    sequence    bigint   NOT NULL,
    counts      bigint[] NOT NULL,
    paid        bigint[] NOT NULL,
    PRIMARY KEY (tenant_id, share_id)
);

-- Points granted per advocate, action and local day, against the daily caps.
CREATE TABLE cap_usage (
    tenant_id   text NOT NULL,
    advocate_id text NOT NULL,
    action      text NOT NULL,
    day         int  NOT NULL,  -- proleptic ordinal of the local date
    granted     int  NOT NULL,
    PRIMARY KEY (tenant_id, advocate_id, action, day)
);
