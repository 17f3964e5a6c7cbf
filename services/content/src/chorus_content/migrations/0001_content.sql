-- Content library, its audit trail, tenant categories and guidelines.
-- Every table leads with tenant_id: every query names the tenant, every index serves it.

CREATE TABLE items (
    tenant_id           text        NOT NULL,
    id                  text        NOT NULL,
    state               text        NOT NULL CHECK (state IN
                            ('draft', 'in_review', 'rejected', 'approved', 'published',
                             'expired', 'archived')),
    version             int         NOT NULL DEFAULT 1,
    title               text        NOT NULL,
    body                text        NOT NULL,
    link_url            text,
    media               jsonb       NOT NULL DEFAULT '[]',
    category            text        NOT NULL,
    language            text        NOT NULL,
    campaign_hashtags   text[]      NOT NULL DEFAULT '{}',
    -- Case-folded hashtags, for the case-insensitive campaign filter.
    campaign_keys       text[]      NOT NULL DEFAULT '{}',
    suggested_captions  jsonb       NOT NULL DEFAULT '{}',
    required_disclosure text,
    audience            text        NOT NULL CHECK (audience IN ('all', 'teams')),
    team_ids            text[]      NOT NULL DEFAULT '{}',
    publish_at          timestamptz,
    expires_at          timestamptz,
    created_by          text        NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at          timestamptz NOT NULL DEFAULT clock_timestamp(),
    approved_by         text,
    approved_at         timestamptz,
    published_at        timestamptz,
    retired_at          timestamptz,
    -- Built from Python-case-folded title and body: the database's C locale would
    -- not lower-case non-ASCII letters itself.
    search              tsvector    NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

-- Listing is newest first with keyset pagination on (created_at, id); one index
-- per equality filter keeps a filtered page an index range scan.
CREATE INDEX items_recent ON items (tenant_id, created_at, id);
CREATE INDEX items_by_state ON items (tenant_id, state, created_at, id);
CREATE INDEX items_by_category ON items (tenant_id, category, created_at, id);
CREATE INDEX items_by_language ON items (tenant_id, language, created_at, id);
CREATE INDEX items_by_campaign ON items USING gin (campaign_keys);
CREATE INDEX items_by_team ON items USING gin (team_ids);
CREATE INDEX items_search ON items USING gin (search);
-- The scheduler's due work, across tenants.
CREATE INDEX items_due_publish ON items (publish_at) WHERE state = 'approved';
CREATE INDEX items_due_expiry ON items (expires_at)
    WHERE state = 'published' AND expires_at IS NOT NULL;

CREATE TABLE item_audit (
    id          bigserial   PRIMARY KEY,
    tenant_id   text        NOT NULL,
    item_id     text        NOT NULL,
    action      text        NOT NULL,
    from_state  text,
    to_state    text        NOT NULL,
    actor       text        NOT NULL,
    comment     text,
    at          timestamptz NOT NULL DEFAULT clock_timestamp(),
    FOREIGN KEY (tenant_id, item_id) REFERENCES items (tenant_id, id)
);
CREATE INDEX item_audit_by_item ON item_audit (tenant_id, item_id, id);

CREATE TABLE categories (
    tenant_id   text        NOT NULL,
    slug        text        NOT NULL,
    name        text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (tenant_id, slug)
);

CREATE TABLE guidelines (
    tenant_id   text        PRIMARY KEY,
    version     int         NOT NULL,
    document    jsonb       NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_by  text        NOT NULL
);
