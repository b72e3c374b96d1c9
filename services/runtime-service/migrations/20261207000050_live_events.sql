-- Live events and notifications (SPEC §13, docs/adr/0025-live-events-and-notifications.md).
-- Portable SQL.
--
-- `tenant_events`: the durable per-tenant event log. `event_id` is MAX + 1 within the tenant,
-- guarded by the primary key (a writer that loses the race retries). `audience` is `tenant`,
-- `admins` or `user:<id>`; the experience plane filters on it (it knows the caller's role).
CREATE TABLE tenant_events (
    tenant_id   TEXT NOT NULL,
    event_id    BIGINT NOT NULL,
    event_type  TEXT NOT NULL,
    audience    TEXT NOT NULL,
    agent_id    TEXT,
    context_id  TEXT,
    data        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, event_id)
);
CREATE INDEX tenant_events_created ON tenant_events (created_at);

-- Notifications: `audience` is `user:<id>` or `admins` (read per admin).
CREATE TABLE notifications (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL,
    audience    TEXT NOT NULL,
    type        TEXT NOT NULL,
    title       TEXT NOT NULL,
    body        TEXT NOT NULL,
    severity    TEXT NOT NULL,
    data        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX notifications_audience ON notifications (tenant_id, audience, created_at);

-- Who read what (one row per reader and notification).
CREATE TABLE notification_reads (
    notification_id TEXT NOT NULL,
    tenant_id       TEXT NOT NULL,
    user_id         TEXT NOT NULL,
    read_at         BIGINT NOT NULL,
    PRIMARY KEY (notification_id, user_id)
);
CREATE INDEX notification_reads_user ON notification_reads (tenant_id, user_id);

-- A user's event subscriptions (the live stream's filters).
CREATE TABLE event_subscriptions (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    event_types  TEXT NOT NULL,
    agent_ids    TEXT,
    context_ids  TEXT,
    created_at   BIGINT NOT NULL
);
CREATE INDEX event_subscriptions_user ON event_subscriptions (tenant_id, user_id, created_at);
