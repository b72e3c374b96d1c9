-- Usage analytics (SPEC §11, docs/adr/0018-usage-analytics.md). Portable SQL (PostgreSQL and SQLite).
--
-- `agent_usage_events`: what callers tracked (`POST /api/agents/{id}/track`), kept as evidence.
CREATE TABLE agent_usage_events (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL,
    agent_id    TEXT NOT NULL,
    user_id     TEXT,
    event_type  TEXT NOT NULL,
    outcome     TEXT,
    latency_ms  BIGINT,
    rating      BIGINT,
    details     TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX agent_usage_events_agent ON agent_usage_events (tenant_id, agent_id, created_at, id);

-- Per (tenant, agent, hour) counters, kept up to date in the transaction that ends an execution
-- (or stores a tracked event), so reading a window sums at most 720 rows and never scans the
-- executions. `hour_start` is epoch ms of the UTC hour the execution was created in (the tracked
-- event stored in). Latencies are log-scale histograms, two buckets per doubling of
-- milliseconds (`*_hNN`, see `usage::histogram`), with the hour's exact extremes beside them.
-- Counts are INTEGER (per hour they stay far below 2^31): PostgreSQL sums INTEGER into a BIGINT
-- with plain integer arithmetic, where a sum of BIGINT goes through NUMERIC — measurably slower
-- for the ~100 sums of a metrics read.
CREATE TABLE agent_usage_hours (
    tenant_id           TEXT NOT NULL,
    agent_id            TEXT NOT NULL,
    hour_start          BIGINT NOT NULL,
    completed           INTEGER NOT NULL DEFAULT 0,
    failed              INTEGER NOT NULL DEFAULT 0,
    cancelled           INTEGER NOT NULL DEFAULT 0,
    tracked_invocations INTEGER NOT NULL DEFAULT 0,
    tracked_failures    INTEGER NOT NULL DEFAULT 0,
    feedback_count      INTEGER NOT NULL DEFAULT 0,
    rated_count         INTEGER NOT NULL DEFAULT 0,
    rating_sum          INTEGER NOT NULL DEFAULT 0,
    ttft_min            BIGINT,
    ttft_max            BIGINT,
    total_min           BIGINT,
    total_max           BIGINT,
    ttft_h00 INTEGER NOT NULL DEFAULT 0,
    ttft_h01 INTEGER NOT NULL DEFAULT 0,
    ttft_h02 INTEGER NOT NULL DEFAULT 0,
    ttft_h03 INTEGER NOT NULL DEFAULT 0,
    ttft_h04 INTEGER NOT NULL DEFAULT 0,
    ttft_h05 INTEGER NOT NULL DEFAULT 0,
    ttft_h06 INTEGER NOT NULL DEFAULT 0,
    ttft_h07 INTEGER NOT NULL DEFAULT 0,
    ttft_h08 INTEGER NOT NULL DEFAULT 0,
    ttft_h09 INTEGER NOT NULL DEFAULT 0,
    ttft_h10 INTEGER NOT NULL DEFAULT 0,
    ttft_h11 INTEGER NOT NULL DEFAULT 0,
    ttft_h12 INTEGER NOT NULL DEFAULT 0,
    ttft_h13 INTEGER NOT NULL DEFAULT 0,
    ttft_h14 INTEGER NOT NULL DEFAULT 0,
    ttft_h15 INTEGER NOT NULL DEFAULT 0,
    ttft_h16 INTEGER NOT NULL DEFAULT 0,
    ttft_h17 INTEGER NOT NULL DEFAULT 0,
    ttft_h18 INTEGER NOT NULL DEFAULT 0,
    ttft_h19 INTEGER NOT NULL DEFAULT 0,
    ttft_h20 INTEGER NOT NULL DEFAULT 0,
    ttft_h21 INTEGER NOT NULL DEFAULT 0,
    ttft_h22 INTEGER NOT NULL DEFAULT 0,
    ttft_h23 INTEGER NOT NULL DEFAULT 0,
    ttft_h24 INTEGER NOT NULL DEFAULT 0,
    ttft_h25 INTEGER NOT NULL DEFAULT 0,
    ttft_h26 INTEGER NOT NULL DEFAULT 0,
    ttft_h27 INTEGER NOT NULL DEFAULT 0,
    ttft_h28 INTEGER NOT NULL DEFAULT 0,
    ttft_h29 INTEGER NOT NULL DEFAULT 0,
    ttft_h30 INTEGER NOT NULL DEFAULT 0,
    ttft_h31 INTEGER NOT NULL DEFAULT 0,
    ttft_h32 INTEGER NOT NULL DEFAULT 0,
    ttft_h33 INTEGER NOT NULL DEFAULT 0,
    ttft_h34 INTEGER NOT NULL DEFAULT 0,
    ttft_h35 INTEGER NOT NULL DEFAULT 0,
    ttft_h36 INTEGER NOT NULL DEFAULT 0,
    ttft_h37 INTEGER NOT NULL DEFAULT 0,
    ttft_h38 INTEGER NOT NULL DEFAULT 0,
    ttft_h39 INTEGER NOT NULL DEFAULT 0,
    ttft_h40 INTEGER NOT NULL DEFAULT 0,
    ttft_h41 INTEGER NOT NULL DEFAULT 0,
    ttft_h42 INTEGER NOT NULL DEFAULT 0,
    ttft_h43 INTEGER NOT NULL DEFAULT 0,
    ttft_h44 INTEGER NOT NULL DEFAULT 0,
    ttft_h45 INTEGER NOT NULL DEFAULT 0,
    ttft_h46 INTEGER NOT NULL DEFAULT 0,
    ttft_h47 INTEGER NOT NULL DEFAULT 0,
    total_h00 INTEGER NOT NULL DEFAULT 0,
    total_h01 INTEGER NOT NULL DEFAULT 0,
    total_h02 INTEGER NOT NULL DEFAULT 0,
    total_h03 INTEGER NOT NULL DEFAULT 0,
    total_h04 INTEGER NOT NULL DEFAULT 0,
    total_h05 INTEGER NOT NULL DEFAULT 0,
    total_h06 INTEGER NOT NULL DEFAULT 0,
    total_h07 INTEGER NOT NULL DEFAULT 0,
    total_h08 INTEGER NOT NULL DEFAULT 0,
    total_h09 INTEGER NOT NULL DEFAULT 0,
    total_h10 INTEGER NOT NULL DEFAULT 0,
    total_h11 INTEGER NOT NULL DEFAULT 0,
    total_h12 INTEGER NOT NULL DEFAULT 0,
    total_h13 INTEGER NOT NULL DEFAULT 0,
    total_h14 INTEGER NOT NULL DEFAULT 0,
    total_h15 INTEGER NOT NULL DEFAULT 0,
    total_h16 INTEGER NOT NULL DEFAULT 0,
    total_h17 INTEGER NOT NULL DEFAULT 0,
    total_h18 INTEGER NOT NULL DEFAULT 0,
    total_h19 INTEGER NOT NULL DEFAULT 0,
    total_h20 INTEGER NOT NULL DEFAULT 0,
    total_h21 INTEGER NOT NULL DEFAULT 0,
    total_h22 INTEGER NOT NULL DEFAULT 0,
    total_h23 INTEGER NOT NULL DEFAULT 0,
    total_h24 INTEGER NOT NULL DEFAULT 0,
    total_h25 INTEGER NOT NULL DEFAULT 0,
    total_h26 INTEGER NOT NULL DEFAULT 0,
    total_h27 INTEGER NOT NULL DEFAULT 0,
    total_h28 INTEGER NOT NULL DEFAULT 0,
    total_h29 INTEGER NOT NULL DEFAULT 0,
    total_h30 INTEGER NOT NULL DEFAULT 0,
    total_h31 INTEGER NOT NULL DEFAULT 0,
    total_h32 INTEGER NOT NULL DEFAULT 0,
    total_h33 INTEGER NOT NULL DEFAULT 0,
    total_h34 INTEGER NOT NULL DEFAULT 0,
    total_h35 INTEGER NOT NULL DEFAULT 0,
    total_h36 INTEGER NOT NULL DEFAULT 0,
    total_h37 INTEGER NOT NULL DEFAULT 0,
    total_h38 INTEGER NOT NULL DEFAULT 0,
    total_h39 INTEGER NOT NULL DEFAULT 0,
    total_h40 INTEGER NOT NULL DEFAULT 0,
    total_h41 INTEGER NOT NULL DEFAULT 0,
    total_h42 INTEGER NOT NULL DEFAULT 0,
    total_h43 INTEGER NOT NULL DEFAULT 0,
    total_h44 INTEGER NOT NULL DEFAULT 0,
    total_h45 INTEGER NOT NULL DEFAULT 0,
    total_h46 INTEGER NOT NULL DEFAULT 0,
    total_h47 INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, agent_id, hour_start)
);

-- The last hour each user / conversation used an agent (from its executions): the distinct
-- users of a window ending now are the rows whose `last_hour` lies in it, one index range.
CREATE TABLE agent_usage_users (
    tenant_id TEXT NOT NULL,
    agent_id  TEXT NOT NULL,
    user_id   TEXT NOT NULL,
    last_hour BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, agent_id, user_id)
);
CREATE INDEX agent_usage_users_recent ON agent_usage_users (tenant_id, agent_id, last_hour);

CREATE TABLE agent_usage_conversations (
    tenant_id       TEXT NOT NULL,
    agent_id        TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    last_hour       BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, agent_id, conversation_id)
);
CREATE INDEX agent_usage_conversations_recent ON agent_usage_conversations (tenant_id, agent_id, last_hour);

-- An agent's activity feed lists its executions newest first.
CREATE INDEX executions_agent ON executions (tenant_id, agent_id, created_at, id);
