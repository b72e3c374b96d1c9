-- Tenants with several members, invitations, API keys and the access changes every replica
-- mirrors in memory (SPEC §5, ADR 0010). Portable SQL (PostgreSQL and SQLite): TEXT ids, BIGINT
-- epoch milliseconds, nullable instants instead of booleans.

-- Pending invitations of unknown emails. Only a SHA-256 hash of the token is kept.
CREATE TABLE invitations (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id),
    email       TEXT NOT NULL,
    role        TEXT NOT NULL,
    token_hash  TEXT NOT NULL UNIQUE,
    invited_by  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    accepted_at BIGINT,
    accepted_by TEXT
);
CREATE INDEX invitations_tenant ON invitations (tenant_id, created_at);

-- API keys for programs. Only a SHA-256 hash of the key is kept; `key_prefix` identifies it.
CREATE TABLE api_keys (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL REFERENCES tenants (id),
    created_by TEXT NOT NULL,
    name       TEXT NOT NULL,
    scopes     TEXT NOT NULL,
    key_hash   TEXT NOT NULL UNIQUE,
    key_prefix TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    revoked_at BIGINT
);
CREATE INDEX api_keys_tenant ON api_keys (tenant_id, created_at);

-- Role changes, removals and key revocations, polled by every replica (like revoked_sessions):
-- kind 'member' (subject = user id, role = the new role or NULL when removed) or 'api_key'
-- (subject = key id). changed_at is strictly increasing per (tenant, subject).
CREATE TABLE access_changes (
    id           TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,
    tenant_id    TEXT NOT NULL,
    subject      TEXT NOT NULL,
    role         TEXT,
    changed_at   BIGINT NOT NULL,
    recorded_at  BIGINT NOT NULL,
    forget_after BIGINT NOT NULL
);
CREATE INDEX access_changes_recorded ON access_changes (recorded_at);
CREATE INDEX access_changes_subject ON access_changes (tenant_id, subject, changed_at);
