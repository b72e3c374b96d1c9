-- Durable audit of every intent the runtime accepted. Portable SQL (PostgreSQL and SQLite).
CREATE TABLE intent_audit (
    contract_id TEXT PRIMARY KEY,
    action      TEXT NOT NULL,
    tenant_id   TEXT NOT NULL,
    user_id     TEXT,
    session_id  TEXT NOT NULL,
    issued_at   BIGINT NOT NULL,
    accepted_at BIGINT NOT NULL,
    status      INTEGER NOT NULL
);
CREATE INDEX intent_audit_session ON intent_audit (session_id);
CREATE INDEX intent_audit_tenant ON intent_audit (tenant_id, accepted_at);
