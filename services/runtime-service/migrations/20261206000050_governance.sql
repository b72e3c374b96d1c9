-- Governance (SPEC §10, docs/adr/0019-governance-decisions.md). Portable SQL (PostgreSQL and SQLite).
--
-- `governance_tenants`: one row per tenant that governance has seen (made with the tenant's
-- default policy). `policy_version` grows on every policy change, so a replica knows whether its
-- cached ACTIVE policies are current with one read; `chain_seq` / `chain_head` are the tip of the
-- tenant's audit chain. Appending starts with a no-op `UPDATE … RETURNING` of this row, which
-- takes its lock (PostgreSQL) or the write lock (SQLite) before the previous hash is read: two
-- appends can never link to the same entry.
CREATE TABLE governance_tenants (
    tenant_id       TEXT PRIMARY KEY,
    policy_version  BIGINT NOT NULL,
    chain_seq       BIGINT NOT NULL,
    chain_head      TEXT NOT NULL
);

CREATE TABLE governance_policies (
    id                 TEXT PRIMARY KEY,
    tenant_id          TEXT NOT NULL,
    name               TEXT NOT NULL,
    description        TEXT,
    policy_type        TEXT NOT NULL,
    status             TEXT NOT NULL,
    enforcement_level  TEXT NOT NULL,
    rules              TEXT NOT NULL,
    version            BIGINT NOT NULL,
    created_by         TEXT NOT NULL,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL
);
CREATE INDEX governance_policies_tenant ON governance_policies (tenant_id, created_at, id);

-- The hash chain: `entry` is the canonical JSON that was hashed; `entry_hash` =
-- sha256(previous_hash || entry).
CREATE TABLE governance_audit (
    tenant_id      TEXT NOT NULL,
    seq            BIGINT NOT NULL,
    entry_id       TEXT NOT NULL,
    kind           TEXT NOT NULL,
    entry          TEXT NOT NULL,
    previous_hash  TEXT NOT NULL,
    entry_hash     TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, seq)
);

-- Every decision: compliance counts them per agent and window, and the audit chain takes them
-- from here. A decision is written in the transaction of what it decided about (a turn's accept
-- or end), with its canonical audit `entry`, and linked into the chain afterwards, in order, by
-- the chainer (`governance::service`), which sets `chained_seq`: no turn waits for the tenant's
-- chain lock. Reading the audit log first links what is still waiting.
CREATE TABLE governance_decisions (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL,
    agent_id      TEXT NOT NULL,
    action_type   TEXT NOT NULL,
    decision      TEXT NOT NULL,
    execution_id  TEXT,
    created_at    BIGINT NOT NULL,
    entry         TEXT NOT NULL,
    chained_seq   BIGINT
);
CREATE INDEX governance_decisions_agent ON governance_decisions (tenant_id, agent_id, created_at);
CREATE INDEX governance_decisions_unchained ON governance_decisions (tenant_id, created_at, id)
    WHERE chained_seq IS NULL;

CREATE TABLE governance_violations (
    id              TEXT PRIMARY KEY,
    tenant_id       TEXT NOT NULL,
    agent_id        TEXT NOT NULL,
    policy_id       TEXT NOT NULL,
    violation_type  TEXT NOT NULL,
    severity        TEXT NOT NULL,
    decision_id     TEXT NOT NULL,
    execution_id    TEXT,
    details         TEXT NOT NULL,
    occurred_at     BIGINT NOT NULL
);
CREATE INDEX governance_violations_tenant ON governance_violations (tenant_id, occurred_at, id);
CREATE INDEX governance_violations_agent ON governance_violations (tenant_id, agent_id, occurred_at);
