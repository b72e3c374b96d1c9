-- Agent profiles, signed attestations and the tenants' attestation keys (SPEC §9,
-- docs/adr/0017-attestation-keys.md). JSON is stored as TEXT, instants as epoch ms.
-- Portable SQL (PostgreSQL and SQLite).
CREATE TABLE agent_profiles (
    id                   TEXT PRIMARY KEY,
    tenant_id            TEXT NOT NULL,
    agent_id             TEXT NOT NULL,
    name                 TEXT NOT NULL,
    description          TEXT,
    capabilities         TEXT NOT NULL,
    governance_framework TEXT,
    compliance_level     TEXT NOT NULL,
    constitution_hash    TEXT NOT NULL,
    key_id               TEXT NOT NULL,
    version              BIGINT NOT NULL,
    created_by           TEXT NOT NULL,
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL
);
CREATE INDEX agent_profiles_tenant ON agent_profiles (tenant_id, created_at, id);

-- One row per signing key. `sealed_seed` is base64 of nonce (12 bytes) || ChaCha20-Poly1305
-- ciphertext of the 32-byte Ed25519 seed (48 bytes), under a key derived from the runtime's
-- service secret; the seed is never stored in the clear. At most one active key per tenant.
CREATE TABLE attestation_keys (
    kid         TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL,
    public_key  TEXT NOT NULL,
    sealed_seed TEXT NOT NULL,
    status      TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    retired_at  BIGINT
);
CREATE INDEX attestation_keys_tenant ON attestation_keys (tenant_id, created_at);
CREATE UNIQUE INDEX attestation_keys_one_active ON attestation_keys (tenant_id) WHERE status = 'active';

-- Signed attestations. Every signed field is stored exactly as it was signed (instants as the
-- ms they were rendered from), so the signature can be checked again from the row alone.
CREATE TABLE attestations (
    id                    TEXT PRIMARY KEY,
    tenant_id             TEXT NOT NULL,
    profile_id            TEXT NOT NULL,
    attestation_type      TEXT NOT NULL,
    issuer_id             TEXT NOT NULL,
    subject_id            TEXT NOT NULL,
    claim_id              TEXT NOT NULL,
    issued_at             BIGINT NOT NULL,
    expires_at            BIGINT NOT NULL,
    attestation_data      TEXT NOT NULL,
    parent_attestation_id TEXT,
    key_id                TEXT NOT NULL,
    signature             TEXT NOT NULL,
    revocation_status     TEXT NOT NULL,
    revocation_reason     TEXT,
    revoked_at            BIGINT,
    revoked_by            TEXT
);
CREATE INDEX attestations_profile ON attestations (tenant_id, profile_id, issued_at, id);
