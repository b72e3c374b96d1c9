-- Trust from evidence (SPEC §10, docs/adr/0020-trust-from-evidence.md). Portable SQL.
--
-- `agent_trust`: one row per (tenant, agent) that has received evidence. Each dimension is an
-- exponentially weighted mean (α = 0.2, from 0.5); `observed` has bit i set once dimension i
-- (competence, reliability, honesty, transparency) has had an observation (only those alert);
-- `peak` is the highest aggregate since the last aggregate alert (an aggregate more than 0.1
-- below it raises one and resets it). Observing starts
-- with `INSERT … ON CONFLICT DO UPDATE SET evidence_count = evidence_count + 1 … RETURNING`, which
-- locks the row (PostgreSQL) or takes the write lock (SQLite) before the old values are read, so
-- two observations can never both start from the same values.
CREATE TABLE agent_trust (
    tenant_id       TEXT NOT NULL,
    agent_id        TEXT NOT NULL,
    competence      DOUBLE PRECISION NOT NULL,
    reliability     DOUBLE PRECISION NOT NULL,
    honesty         DOUBLE PRECISION NOT NULL,
    transparency    DOUBLE PRECISION NOT NULL,
    observed        BIGINT NOT NULL,
    evidence_count  BIGINT NOT NULL,
    peak            DOUBLE PRECISION NOT NULL,
    updated_at      BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, agent_id)
);

-- The aggregate after each piece of evidence: `seq` is the agent's evidence_count then.
CREATE TABLE agent_trust_history (
    tenant_id  TEXT NOT NULL,
    agent_id   TEXT NOT NULL,
    seq        BIGINT NOT NULL,
    aggregate  DOUBLE PRECISION NOT NULL,
    at         BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, agent_id, seq)
);

-- `trust.alert`s (SPEC §10, §13), stored when raised; notifications deliver them later.
-- `kind` is `dimension` (one fell below 0.7 at confidence >= 0.5; `dimension` names it) or
-- `aggregate` (it dropped more than 0.1 below its peak; `dimension` is NULL). `previous` is the
-- dimension's value before, or the peak.
CREATE TABLE trust_alerts (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL,
    agent_id   TEXT NOT NULL,
    kind       TEXT NOT NULL,
    dimension  TEXT,
    value      DOUBLE PRECISION NOT NULL,
    previous   DOUBLE PRECISION NOT NULL,
    at         BIGINT NOT NULL
);
CREATE INDEX trust_alerts_tenant ON trust_alerts (tenant_id, at, id);
