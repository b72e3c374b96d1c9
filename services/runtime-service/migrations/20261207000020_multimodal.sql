-- Multimodal requests (SPEC §15, docs/adr/0022-multimodal.md). Portable SQL (SQLite and
-- PostgreSQL through sqlx Any): TEXT ids and JSON, BIGINT epoch-ms timestamps.

-- Artifacts, stored once per tenant and content (sha256); the data is base64 TEXT so both
-- backends read it through the same driver-neutral type.
CREATE TABLE multimodal_artifacts (
    tenant_id TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    bytes BIGINT NOT NULL,
    data TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, sha256)
);

CREATE TABLE multimodal_requests (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    modality TEXT NOT NULL,
    input_text TEXT,
    input_sha256 TEXT,
    input_bytes BIGINT,
    input_content_type TEXT,
    state TEXT NOT NULL,
    result_id TEXT,
    execution_id TEXT,
    error_message TEXT,
    requested_timeout_seconds BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE INDEX multimodal_requests_by_tenant ON multimodal_requests (tenant_id, created_at, id);
CREATE INDEX multimodal_requests_by_state ON multimodal_requests (state, execution_id);

-- One row per run; the request's result_id names the latest.
CREATE TABLE multimodal_results (
    id TEXT PRIMARY KEY,
    request_id TEXT NOT NULL,
    tenant_id TEXT NOT NULL,
    execution_id TEXT NOT NULL,
    state TEXT NOT NULL,
    output_text TEXT,
    output_sha256 TEXT,
    output_bytes BIGINT,
    output_content_type TEXT,
    output_data TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    completed_at BIGINT
);

CREATE INDEX multimodal_results_by_request ON multimodal_results (tenant_id, request_id);

CREATE TABLE multimodal_policies (
    tenant_id TEXT PRIMARY KEY,
    max_text_chars BIGINT NOT NULL,
    max_artifact_bytes BIGINT NOT NULL,
    max_timeout_seconds BIGINT NOT NULL,
    allowed_modalities TEXT NOT NULL,
    updated_by TEXT,
    updated_at BIGINT NOT NULL
);
