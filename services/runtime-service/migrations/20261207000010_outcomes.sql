-- Outcomes (SPEC §16, docs/adr/0021-outcomes.md). Portable SQL (PostgreSQL and SQLite).
--
-- `outcome_events`: every outcome, posted (`source = 'api'`) or recorded when an execution
-- finished (`source = 'execution'`, domain `agent:<agent_id>`). `occurred_at` (epoch ms) orders
-- lists and trends, `id` breaks ties.
CREATE TABLE outcome_events (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL,
    domain       TEXT NOT NULL,
    event_type   TEXT NOT NULL,
    metric_type  TEXT NOT NULL,
    value        DOUBLE PRECISION NOT NULL,
    occurred_at  BIGINT NOT NULL,
    metadata     TEXT NOT NULL,
    user_id      TEXT,
    source       TEXT NOT NULL,
    created_at   BIGINT NOT NULL
);
-- Newest first: the list and the dashboard's recent events (all domains / one domain).
CREATE INDEX outcome_events_recent ON outcome_events (tenant_id, occurred_at, id);
CREATE INDEX outcome_events_domain ON outcome_events (tenant_id, domain, occurred_at, id);
-- A metric's latest values: a trend reads at most `window` index entries.
CREATE INDEX outcome_events_metric ON outcome_events (tenant_id, metric_type, occurred_at, id);
CREATE INDEX outcome_events_domain_metric ON outcome_events (tenant_id, domain, metric_type, occurred_at, id);

-- Events per (tenant, domain, event type, metric), kept up to date in the transaction that
-- stores them (`count = count + 1` upserts): the dashboard's summary reads these rows instead of
-- counting and de-duplicating every event of the tenant per request.
CREATE TABLE outcome_counts (
    tenant_id    TEXT NOT NULL,
    domain       TEXT NOT NULL,
    event_type   TEXT NOT NULL,
    metric_type  TEXT NOT NULL,
    events       BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, domain, event_type, metric_type)
);
