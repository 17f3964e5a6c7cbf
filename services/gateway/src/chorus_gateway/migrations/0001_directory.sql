-- The directory the gateway owns: tenants, teams, people, and the credentials of
-- both people (password hashes) and systems (API keys).

CREATE TABLE tenants (
    id                    text PRIMARY KEY,
    name                  text NOT NULL,
    time_zone             text NOT NULL,
    rate_limit_per_minute int CHECK (rate_limit_per_minute > 0),
    rate_limit_burst      int CHECK (rate_limit_burst > 0),
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE teams (
    tenant_id  text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id         text NOT NULL,
    name       text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, name)
);

CREATE TABLE people (
    tenant_id        text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id               text NOT NULL,
    email            text NOT NULL,
    display_name     text NOT NULL,
    roles            text[] NOT NULL,
    enrolment        text NOT NULL CHECK (enrolment IN ('invited', 'enrolled', 'opted_out', 'suspended')),
    external_subject text,
    password_hash    text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, email),
    UNIQUE (tenant_id, external_subject)
);
-- Keyset pages walk (created_at, id) within a tenant.
CREATE INDEX people_page ON people (tenant_id, created_at, id);

CREATE TABLE team_members (
    tenant_id text NOT NULL,
    team_id   text NOT NULL,
    person_id text NOT NULL,
    PRIMARY KEY (tenant_id, person_id, team_id),
    FOREIGN KEY (tenant_id, team_id) REFERENCES teams (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, person_id) REFERENCES people (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX team_members_by_team ON team_members (tenant_id, team_id);

CREATE TABLE api_keys (
    id           text PRIMARY KEY,
    tenant_id    text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name         text NOT NULL,
    scopes       text[] NOT NULL,
    secret_hash  bytea NOT NULL,
    created_by   text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz,
    revoked_at   timestamptz,
    last_used_at timestamptz,
    replaced_by  text
);
CREATE INDEX api_keys_page ON api_keys (tenant_id, created_at, id);
