-- Agent wrappers and their deployments (SPEC §8, docs/adr/0016-agent-wrappers.md).
-- A wrapper is a tenant's own agent definition; `configuration` is what the next deploy will
-- serve, `deployed_*` what the catalog serves now (a PUT of a deployed wrapper changes the first
-- only). JSON is stored as TEXT. Portable SQL (PostgreSQL and SQLite).
CREATE TABLE agent_wrappers (
    id                     TEXT PRIMARY KEY,
    tenant_id              TEXT NOT NULL,
    created_by             TEXT NOT NULL,
    name                   TEXT NOT NULL,
    description            TEXT NOT NULL,
    version                TEXT NOT NULL,
    supported_providers    TEXT NOT NULL,
    configuration          TEXT NOT NULL,
    deployment_status      TEXT NOT NULL,
    deployment_id          TEXT,
    deployed_version       TEXT,
    deployed_configuration TEXT,
    deployed_at            BIGINT,
    health_ok              INTEGER,
    health_checked_at      BIGINT,
    last_error             TEXT,
    created_at             BIGINT NOT NULL,
    updated_at             BIGINT NOT NULL
);
CREATE INDEX agent_wrappers_tenant ON agent_wrappers (tenant_id, created_at, id);

-- Every status change of a wrapper's deployment (its `deployment.status` events, SPEC §13).
CREATE TABLE agent_deployment_events (
    id            TEXT PRIMARY KEY,
    wrapper_id    TEXT NOT NULL,
    tenant_id     TEXT NOT NULL,
    deployment_id TEXT,
    status        TEXT NOT NULL,
    version       TEXT,
    error         TEXT,
    actor_id      TEXT,
    created_at    BIGINT NOT NULL
);
CREATE INDEX agent_deployment_events_wrapper ON agent_deployment_events (tenant_id, wrapper_id, created_at);
