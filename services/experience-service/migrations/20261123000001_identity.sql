-- Identity of the experience plane. Portable SQL (PostgreSQL and SQLite): TEXT ids, BIGINT epoch
-- milliseconds, nullable instants instead of booleans.
CREATE TABLE tenants (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    name          TEXT,
    password_hash TEXT NOT NULL,
    created_at    BIGINT NOT NULL
);

CREATE TABLE memberships (
    tenant_id  TEXT NOT NULL REFERENCES tenants (id),
    user_id    TEXT NOT NULL REFERENCES users (id),
    role       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, user_id)
);
CREATE INDEX memberships_user ON memberships (user_id, created_at);

-- One family per login; every refresh adds a generation. A family dies with its session.
CREATE TABLE refresh_families (
    id                  TEXT PRIMARY KEY,
    tenant_id           TEXT NOT NULL REFERENCES tenants (id),
    user_id             TEXT NOT NULL REFERENCES users (id),
    session_id          TEXT NOT NULL,
    created_at          BIGINT NOT NULL,
    absolute_expires_at BIGINT NOT NULL,
    revoked_at          BIGINT,
    revoked_reason      TEXT
);
CREATE INDEX refresh_families_user ON refresh_families (tenant_id, user_id);
CREATE INDEX refresh_families_session ON refresh_families (session_id);

-- Refresh tokens are stored only as SHA-256 hashes.
CREATE TABLE refresh_tokens (
    token_hash      TEXT PRIMARY KEY,
    family_id       TEXT NOT NULL REFERENCES refresh_families (id),
    generation      BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    idle_expires_at BIGINT NOT NULL,
    rotated_at      BIGINT
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);

-- Ended sessions whose access tokens must be refused until they expire; every replica polls it.
CREATE TABLE revoked_sessions (
    session_id TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL,
    revoked_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX revoked_sessions_time ON revoked_sessions (revoked_at);
