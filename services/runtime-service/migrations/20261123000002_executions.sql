-- Agent conversations, executions and the durable per-session event log (SPEC §4).
-- Portable SQL (PostgreSQL and SQLite).
CREATE TABLE conversations (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL,
    user_id    TEXT,
    session_id TEXT NOT NULL,
    agent_id   TEXT NOT NULL,
    title      TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX conversations_owner ON conversations (tenant_id, user_id, updated_at);

CREATE TABLE messages (
    id              TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations (id),
    tenant_id       TEXT NOT NULL,
    role            TEXT NOT NULL,
    content         TEXT NOT NULL,
    agent_id        TEXT,
    execution_id    TEXT,
    created_at      BIGINT NOT NULL
);
CREATE INDEX messages_conversation ON messages (conversation_id, created_at);

CREATE TABLE executions (
    id              TEXT PRIMARY KEY,
    tenant_id       TEXT NOT NULL,
    session_id      TEXT NOT NULL,
    user_id         TEXT,
    conversation_id TEXT NOT NULL,
    agent_id        TEXT NOT NULL,
    agent_type      TEXT NOT NULL,
    pillar          TEXT,
    input           TEXT NOT NULL,
    status          TEXT NOT NULL,
    error           TEXT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX executions_session ON executions (tenant_id, session_id, created_at);
CREATE INDEX executions_status ON executions (status);

-- Every event of a session, in order; event_id is monotonic per session.
CREATE TABLE session_events (
    session_id   TEXT NOT NULL,
    event_id     BIGINT NOT NULL,
    tenant_id    TEXT NOT NULL,
    execution_id TEXT,
    event_type   TEXT NOT NULL,
    data         TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (session_id, event_id)
);
CREATE INDEX session_events_execution ON session_events (execution_id, event_id);
