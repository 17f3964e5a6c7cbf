-- Contests: a campaign hashtag, a window, a metric, prizes; results frozen from the ledger.
CREATE TABLE contests (
    id             bigserial   PRIMARY KEY,
    tenant_id      text        NOT NULL,
    name           text        NOT NULL,
    hashtag        text        NOT NULL,  -- normalised
    metric         text        NOT NULL CHECK (metric IN ('points', 'engagement', 'reach')),
    starts_at      timestamptz NOT NULL,
    ends_at        timestamptz NOT NULL,
    prizes         jsonb       NOT NULL DEFAULT '[]',
    state          text        NOT NULL DEFAULT 'scheduled' CHECK (state IN ('scheduled', 'frozen')),
    created_by     text        NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    frozen_at      timestamptz,
    ledger_high_id bigint,                -- entries considered: id <= this
    results        jsonb,
    results_sha256 text,
    CHECK (ends_at > starts_at)
);
CREATE INDEX contests_due ON contests (ends_at) WHERE state = 'scheduled';
CREATE INDEX contests_tenant ON contests (tenant_id, id);

-- Raffles: commit to a seed (publish its hash), reveal it at the draw.
CREATE TABLE raffles (
    id             bigserial   PRIMARY KEY,
    tenant_id      text        NOT NULL,
    name           text        NOT NULL,
    hashtag        text        NOT NULL,  -- normalised
    starts_at      timestamptz NOT NULL,
    ends_at        timestamptz NOT NULL,
    winners_count  int         NOT NULL CHECK (winners_count BETWEEN 1 AND 1000),
    seed_sha256    text        NOT NULL,
    seed           text        NOT NULL,  -- secret until the draw
    state          text        NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'drawn')),
    created_by     text        NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    drawn_at       timestamptz,
    entries        jsonb,
    entries_sha256 text,
    winners        jsonb,
    CHECK (ends_at > starts_at)
);
CREATE INDEX raffles_due ON raffles (ends_at) WHERE state = 'open';
CREATE INDEX raffles_tenant ON raffles (tenant_id, id);
