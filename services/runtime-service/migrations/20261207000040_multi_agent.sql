-- Multi-agent contexts (SPEC §12, docs/adr/0024-multi-agent-contexts.md). Portable SQL.
--
-- `multi_agent_contexts`: one row per context. `agent_ids`, `policies` and `metadata` are JSON
-- text; `status` is active | paused | terminated (terminal). `state_version` /
-- `persistent_data` are the context's persisted state (`POST …/persist`, optimistic
-- concurrency through `If-Match: <state_version>`).
CREATE TABLE multi_agent_contexts (
    id                   TEXT PRIMARY KEY,
    tenant_id            TEXT NOT NULL,
    created_by           TEXT NOT NULL,
    name                 TEXT NOT NULL,
    agent_ids            TEXT NOT NULL,
    collaboration_model  TEXT NOT NULL,
    policies             TEXT NOT NULL,
    governance_enabled   BIGINT NOT NULL,
    metadata             TEXT NOT NULL,
    status               TEXT NOT NULL,
    state_version        BIGINT NOT NULL,
    persistent_data      TEXT NOT NULL,
    state_updated_at     BIGINT NOT NULL,
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL
);
CREATE INDEX multi_agent_contexts_tenant ON multi_agent_contexts (tenant_id, created_at, id);

-- Every message of a context, blocked ones included (`approved` = 0, delivered to nobody).
-- `governance` and `delivery` are the JSON the POST answered; `in_reply_to` links an agent's
-- answer (require_response) to the message it answers; `violations` counts the violation rows
-- recorded for it. Metrics and history are computed from these rows.
CREATE TABLE multi_agent_messages (
    id                TEXT PRIMARY KEY,
    tenant_id         TEXT NOT NULL,
    context_id        TEXT NOT NULL,
    from_agent_id     TEXT NOT NULL,
    to_agent_ids      TEXT NOT NULL,
    message_type      TEXT,
    content           TEXT,
    task_id           TEXT,
    priority          TEXT NOT NULL,
    require_response  BIGINT NOT NULL,
    in_reply_to       TEXT,
    approved          BIGINT NOT NULL,
    trust_score       DOUBLE PRECISION NOT NULL,
    governance        TEXT NOT NULL,
    delivery          TEXT NOT NULL,
    violations        BIGINT NOT NULL,
    created_at        BIGINT NOT NULL
);
CREATE INDEX multi_agent_messages_context ON multi_agent_messages (tenant_id, context_id, created_at, id);
