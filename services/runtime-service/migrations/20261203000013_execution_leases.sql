-- Execution ownership across runtime replicas (docs/adr/0013-replicas-and-leases.md): the process
-- running an execution renews its lease; any replica fails an unfinished execution whose lease
-- has expired. Rows from before this migration have no lease and count as expired.
-- Portable SQL (PostgreSQL and SQLite).
ALTER TABLE executions ADD COLUMN owner_id TEXT;
ALTER TABLE executions ADD COLUMN lease_expires_at BIGINT;
CREATE INDEX executions_lease ON executions (status, lease_expires_at);
