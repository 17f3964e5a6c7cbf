-- Sharing's read model of approved content (fed by content.approved). One row per
-- content item at the highest version seen; stale versions never overwrite it.
CREATE TABLE feed_items (
    tenant_id           text        NOT NULL,
    content_id          text        NOT NULL,
    version             int         NOT NULL,
    title               text        NOT NULL,
    body                text        NOT NULL,
    link_url            text,
    media               jsonb       NOT NULL DEFAULT '[]',
    category            text        NOT NULL,
    language            text        NOT NULL,
    campaign_hashtags   text[]      NOT NULL DEFAULT '{}',
    -- Lowercased hashtags without '#': what the `campaign` filter matches.
    campaign_keys       text[]      NOT NULL DEFAULT '{}',
    suggested_captions  jsonb       NOT NULL DEFAULT '{}',
    required_disclosure text,
    audience            text        NOT NULL CHECK (audience IN ('all', 'teams')),
    team_ids            text[]      NOT NULL DEFAULT '{}',
    publish_at          timestamptz NOT NULL,
    expires_at          timestamptz,
    approved_at         timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (tenant_id, content_id)
);
CREATE INDEX feed_items_newest ON feed_items (tenant_id, publish_at DESC, content_id DESC);

-- Retirements live apart from feed_items: content.retired and content.approved are
-- different topics with no order between them, so a retirement may arrive before
-- the approval it retires. An item is hidden while a retirement at or after its
-- approval exists; a later re-approval (newer approved_at) makes it live again.
CREATE TABLE content_retirements (
    tenant_id   text        NOT NULL,
    content_id  text        NOT NULL,
    reason      text        NOT NULL,
    retired_at  timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, content_id)
);

CREATE TABLE shares (
    tenant_id         text        NOT NULL,
    share_id          text        NOT NULL,
    content_id        text        NOT NULL,
    advocate_id       text        NOT NULL,
    team_ids          text[]      NOT NULL DEFAULT '{}',
    network           text        NOT NULL,
    via               text        NOT NULL CHECK (via IN ('intent', 'api')),
    caption           text,
    -- sha256 of the whitespace-normalised caption: the "identical share" rule.
    caption_digest    text        NOT NULL,
    final_text        text        NOT NULL,
    campaign_hashtags text[]      NOT NULL DEFAULT '{}',
    content_title     text        NOT NULL,
    state             text        NOT NULL CHECK (state IN ('scheduled', 'posted', 'cancelled')),
    audience_size     int,
    link_code         text        NOT NULL UNIQUE,
    tracked_url       text        NOT NULL,
    destination_url   text        NOT NULL,
    created_at        timestamptz NOT NULL,
    scheduled_at      timestamptz,
    posted_at         timestamptz,
    external_post_id  text,
    cancel_reason     text,
    PRIMARY KEY (tenant_id, share_id)
);
CREATE INDEX shares_of_advocate ON shares (tenant_id, advocate_id, created_at DESC, share_id DESC);
CREATE INDEX shares_of_tenant ON shares (tenant_id, created_at DESC, share_id DESC);
CREATE INDEX shares_of_content ON shares (tenant_id, content_id, advocate_id, network)
    WHERE state <> 'cancelled';
CREATE INDEX shares_due ON shares (scheduled_at) WHERE state = 'scheduled';

-- The daily cap, counted per advocate and UTC day. The conditional upsert is one
-- statement, so two concurrent shares cannot both take the last slot.
CREATE TABLE daily_share_counts (
    tenant_id   text NOT NULL,
    advocate_id text NOT NULL,
    day         date NOT NULL,
    shares      int  NOT NULL,
    PRIMARY KEY (tenant_id, advocate_id, day)
);

CREATE TABLE policies (
    tenant_id        text        PRIMARY KEY,
    daily_cap        int         NOT NULL CHECK (daily_cap > 0),
    duplicate_rule   text        NOT NULL CHECK (duplicate_rule IN ('identical', 'same_network', 'off')),
    default_link_url text,
    updated_at       timestamptz NOT NULL,
    updated_by       text        NOT NULL
);

-- An advocate's grant to post through a network's API (connectors; off by default).
CREATE TABLE network_credentials (
    tenant_id    text        NOT NULL,
    advocate_id  text        NOT NULL,
    network      text        NOT NULL,
    member_id    text        NOT NULL,
    access_token text        NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (tenant_id, advocate_id, network)
);
