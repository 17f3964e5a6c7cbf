-- Points rules per tenant, append-only versions; version 1 is the built-in default.
CREATE TABLE rules (
    tenant_id      text        NOT NULL,
    version        int         NOT NULL CHECK (version >= 1),
    effective_from timestamptz,           -- NULL only for version 1
    rules          jsonb       NOT NULL,
    created_by     text        NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, version),
    CHECK ((version = 1) = (effective_from IS NULL))
);

-- Per-tenant settings until the gateway's directory provides them.
CREATE TABLE tenant_settings (
    tenant_id              text        PRIMARY KEY,
    time_zone              text        NOT NULL DEFAULT 'UTC',
    anonymous_leaderboards boolean     NOT NULL DEFAULT false,
    updated_at             timestamptz NOT NULL DEFAULT now()
);
