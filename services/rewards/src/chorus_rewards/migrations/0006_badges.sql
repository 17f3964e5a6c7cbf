-- Badges, each granted at most once per advocate.
CREATE TABLE badges (
    tenant_id   text        NOT NULL,
    advocate_id text        NOT NULL,
    badge       text        NOT NULL,
    cause       text        NOT NULL,  -- the event id or contest that earned it
    granted_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, advocate_id, badge)
);
