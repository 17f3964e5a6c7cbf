-- Metrics read models, raw engagement with verdicts, and per-share aggregates.

-- One row per share (from share.posted) carrying its running totals, so the
-- top-contributors query reads one table, and the emission state of the
-- engagement.updated flusher (what was last emitted, and since when it is dirty).
CREATE TABLE shares (
    tenant_id          text        NOT NULL,
    share_id           text        NOT NULL,
    content_id         text        NOT NULL,
    advocate_id        text        NOT NULL,
    team_ids           text[]      NOT NULL DEFAULT '{}',
    network            text        NOT NULL,
    campaign_hashtags  text[]      NOT NULL DEFAULT '{}',
    caption_hashtags   text[]      NOT NULL DEFAULT '{}',
    posted_at          timestamptz NOT NULL,
    clicks             bigint      NOT NULL DEFAULT 0,
    reactions          bigint      NOT NULL DEFAULT 0,
    comments           bigint      NOT NULL DEFAULT 0,
    reshares           bigint      NOT NULL DEFAULT 0,
    impressions        bigint      NOT NULL DEFAULT 0,
    impressions_reported boolean   NOT NULL DEFAULT false,
    rejected           jsonb       NOT NULL DEFAULT '{}',
    emitted_clicks     bigint      NOT NULL DEFAULT 0,
    emitted_reactions  bigint      NOT NULL DEFAULT 0,
    emitted_comments   bigint      NOT NULL DEFAULT 0,
    emitted_reshares   bigint      NOT NULL DEFAULT 0,
    emitted_impressions bigint     NOT NULL DEFAULT 0,
    emitted_rejected   jsonb       NOT NULL DEFAULT '{}',
    sequence           integer     NOT NULL DEFAULT 0,
    dirty_since        timestamptz,
    last_emitted_at    timestamptz,
    PRIMARY KEY (tenant_id, share_id)
);
CREATE INDEX shares_posted ON shares (tenant_id, posted_at);
CREATE INDEX shares_advocate ON shares (tenant_id, advocate_id);
CREATE INDEX shares_dirty ON shares (dirty_since) WHERE dirty_since IS NOT NULL;

-- Every tracked-link click with its verdict. `pending`: its share is not known yet.
-- A late verdict (burst) turns a valid click into a rejected one and sets corrected_at.
CREATE TABLE clicks (
    tenant_id     text        NOT NULL,
    click_id      uuid        NOT NULL,
    share_id      text        NOT NULL,
    occurred_at   timestamptz NOT NULL,
    visitor_hash  text        NOT NULL,
    ip_prefix     text,
    user_agent    text,
    status        text        NOT NULL CHECK (status IN ('pending', 'valid', 'rejected')),
    reason        text,
    corrected_at  timestamptz,
    received_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, click_id)
);
CREATE INDEX clicks_visitor ON clicks (tenant_id, share_id, visitor_hash, occurred_at);
CREATE INDEX clicks_prefix ON clicks (tenant_id, share_id, ip_prefix, occurred_at)
    WHERE ip_prefix IS NOT NULL;
CREATE INDEX clicks_pending ON clicks (tenant_id, share_id) WHERE status = 'pending';
CREATE INDEX clicks_time ON clicks (tenant_id, occurred_at);

-- Network-reported engagement, one row per observation (source, source_event_id).
-- `applied` is what the observation added to the share's totals (cumulative
-- observations apply their difference to the previous running total).
CREATE TABLE reported (
    tenant_id        text        NOT NULL,
    source           text        NOT NULL,
    source_event_id  text        NOT NULL,
    share_id         text,
    network          text        NOT NULL,
    network_post_ref text,
    kind             text        NOT NULL,
    count            bigint      NOT NULL,
    cumulative       boolean     NOT NULL,
    applied          bigint      NOT NULL DEFAULT 0,
    comment_text     text,
    language         text,
    sentiment_score  double precision,
    sentiment_label  text,
    hashtags         text[]      NOT NULL DEFAULT '{}',
    occurred_at      timestamptz NOT NULL,
    status           text        NOT NULL CHECK (status IN ('pending', 'valid', 'rejected')),
    reason           text,
    received_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, source, source_event_id)
);
CREATE INDEX reported_pending_share ON reported (tenant_id, share_id) WHERE status = 'pending';
CREATE INDEX reported_pending_ref ON reported (tenant_id, network, network_post_ref)
    WHERE status = 'pending' AND share_id IS NULL;
CREATE INDEX reported_time ON reported (tenant_id, occurred_at);
CREATE INDEX reported_share ON reported (tenant_id, share_id);

-- Last running total seen per connector, share and kind (cumulative observations).
CREATE TABLE reported_cumulative (
    tenant_id   text        NOT NULL,
    source      text        NOT NULL,
    share_id    text        NOT NULL,
    kind        text        NOT NULL,
    value       bigint      NOT NULL,
    observed_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, source, share_id, kind)
);

-- Receipts of the batch API: a (source, source_event_id) is accepted once.
CREATE TABLE reported_receipts (
    tenant_id       text        NOT NULL,
    source          text        NOT NULL,
    source_event_id text        NOT NULL,
    event_id        text        NOT NULL,
    received_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, source, source_event_id)
);

-- The network's id of a share's post, for connectors and reported engagement
-- that name the post rather than the share.
CREATE TABLE share_post_refs (
    tenant_id  text NOT NULL,
    network    text NOT NULL,
    post_ref   text NOT NULL,
    share_id   text NOT NULL,
    PRIMARY KEY (tenant_id, network, post_ref),
    UNIQUE (tenant_id, share_id, network)
);

CREATE TABLE fraud_rules (
    tenant_id  text        PRIMARY KEY,
    rules      jsonb       NOT NULL,
    updated_by text        NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Visitor hashes known to be the advocate's own (self-click detection).
CREATE TABLE advocate_fingerprints (
    tenant_id    text        NOT NULL,
    visitor_hash text        NOT NULL,
    advocate_id  text        NOT NULL,
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, visitor_hash, advocate_id)
);

-- Program facts the directory will own later: enrolled advocates, time zone.
CREATE TABLE programs (
    tenant_id          text        PRIMARY KEY,
    enrolled_advocates integer     NOT NULL DEFAULT 0 CHECK (enrolled_advocates >= 0),
    time_zone          text,
    updated_at         timestamptz NOT NULL DEFAULT now()
);

-- Audience size per advocate and network (estimated reach).
CREATE TABLE audiences (
    tenant_id   text        NOT NULL,
    advocate_id text        NOT NULL,
    network     text        NOT NULL,
    followers   bigint      NOT NULL CHECK (followers >= 0),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, advocate_id, network)
);

-- Content availability (from content.approved / content.retired), for the share rate.
CREATE TABLE content_items (
    tenant_id   text        NOT NULL,
    content_id  text        NOT NULL,
    version     integer     NOT NULL,
    available_from timestamptz NOT NULL,
    expires_at  timestamptz,
    retired_at  timestamptz,
    campaign_hashtags text[] NOT NULL DEFAULT '{}',
    PRIMARY KEY (tenant_id, content_id)
);

-- Per-key sum of two {"reason": count} objects (rejected counts by rule).
CREATE FUNCTION add_counts(a jsonb, b jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(jsonb_object_agg(k, n), '{}'::jsonb)
    FROM (
        SELECT k, sum(v::bigint) AS n
        FROM (SELECT key AS k, value AS v FROM jsonb_each_text(a)
              UNION ALL
              SELECT key, value FROM jsonb_each_text(b)) AS pairs
        GROUP BY k
    ) AS sums
$$;
