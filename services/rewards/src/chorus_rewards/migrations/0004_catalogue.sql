-- Rewards catalogue and redemptions. Stock and balances change only through
-- conditional UPDATEs (stock > 0, balance >= cost), so concurrent redemptions can
-- neither oversell nor overspend; the CHECKs are the last line of defence.
CREATE TABLE catalogue_items (
    id          bigserial   PRIMARY KEY,
    tenant_id   text        NOT NULL,
    name        text        NOT NULL,
    description text        NOT NULL DEFAULT '',
    cost        int         NOT NULL CHECK (cost > 0),
    stock       int         NOT NULL CHECK (stock >= 0),
    active      boolean     NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX catalogue_items_tenant ON catalogue_items (tenant_id, id);

CREATE TABLE redemptions (
    id              bigserial   PRIMARY KEY,
    tenant_id       text        NOT NULL,
    advocate_id     text        NOT NULL,
    item_id         bigint      NOT NULL REFERENCES catalogue_items (id),
    cost            int         NOT NULL,
    state           text        NOT NULL CHECK (state IN ('requested', 'fulfilled', 'cancelled')),
    idempotency_key text,
    requested_at    timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    updated_by      text,
    UNIQUE (tenant_id, advocate_id, idempotency_key)
);
CREATE INDEX redemptions_tenant ON redemptions (tenant_id, state, id);
