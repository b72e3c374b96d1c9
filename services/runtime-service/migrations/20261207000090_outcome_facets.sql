-- Outcomes, second step (docs/adr/0021-outcomes.md): the dashboard's totals move from one counter
-- row per (domain, event type, metric), which the summary had to group per request, to facet rows
-- read by primary key. Portable SQL. Facets are rebuilt from the stored events.
DROP TABLE outcome_counts;

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

INSERT INTO outcome_facets (tenant_id, scope, kind, name, events)
    SELECT tenant_id, '', 'metric', metric_type, COUNT(*) FROM outcome_events GROUP BY tenant_id, metric_type;
INSERT INTO outcome_facets (tenant_id, scope, kind, name, events)
    SELECT tenant_id, '', 'domain', domain, COUNT(*) FROM outcome_events GROUP BY tenant_id, domain;
INSERT INTO outcome_facets (tenant_id, scope, kind, name, events)
    SELECT tenant_id, '', 'event_type', event_type, COUNT(*) FROM outcome_events GROUP BY tenant_id, event_type;
INSERT INTO outcome_facets (tenant_id, scope, kind, name, events)
    SELECT tenant_id, domain, 'metric', metric_type, COUNT(*) FROM outcome_events GROUP BY tenant_id, domain, metric_type;
INSERT INTO outcome_facets (tenant_id, scope, kind, name, events)
    SELECT tenant_id, domain, 'event_type', event_type, COUNT(*) FROM outcome_events GROUP BY tenant_id, domain, event_type;
