-- The operations hub (SPEC §14, docs/adr/0023-operations-hub.md): every operator control of a
-- process (pause, resume, cancel) with its reason, who, and the move it made; the detail of the
-- process lists them. The hub reads a tenant's live executions by status and start time.
-- Portable SQL (PostgreSQL and SQLite).
CREATE TABLE operations_audit (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL,
    process_id    TEXT NOT NULL,
    process_type  TEXT NOT NULL,
    action        TEXT NOT NULL,
    reason        TEXT,
    actor_user_id TEXT,
    from_status   TEXT NOT NULL,
    to_status     TEXT NOT NULL,
    created_at    BIGINT NOT NULL
);
CREATE INDEX operations_audit_process ON operations_audit (tenant_id, process_id, created_at);
CREATE INDEX executions_tenant_status ON executions (tenant_id, status, created_at, id);
