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

-- The dashboard's totals, kept up to date in the transaction that stores the events (`events =
-- events + n` upserts), so the summary reads a handful of rows by primary key instead of counting
-- and de-duplicating a tenant's events (or grouping finer counters) per request. Per tenant and
-- `scope` (a domain, or '' for all domains: a domain is never blank), one row per `kind`/`name`:
-- `metric` (events of that metric), `event_type` (events of that type), and, in the '' scope only,
-- `domain` (events of that domain).
CREATE TABLE outcome_facets (
    tenant_id  TEXT NOT NULL,
    scope      TEXT NOT NULL,
    kind       TEXT NOT NULL,
    name       TEXT NOT NULL,
    events     BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, scope, kind, name)
);
