//! The typed records of SPEC §3, their keys, and the [`StateSurface`] operations on them.
//!
//! | record | key (the store adds its prefix) | value |
//! |---|---|---|
//! | session | `session:{tenant_id}:{session_id}` | [`SessionRecord`] |
//! | a user's sessions | `user_sessions:{tenant_id}:{user_id}` | index of session ids |
//! | execution state | `execution:{tenant_id}:{execution_id}` | any JSON |
//! | idempotency | `idempotency:{scope}:{key}` | [`IdempotencyRecord`] |
//! | progress | `progress:{tenant_id}:{operation_id}` | [`Progress`] |
//! | file reference | `file:{tenant_id}:{file_id}` | [`FileRef`] |
//!
//! Values are JSON. Reads of tenant-owned records also compare the ids stored inside the record
//! with the ones asked for, so an id containing `:` can never reach another tenant's record.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{encode, StateError, StateSurface};
use crate::wire::SessionRecord;

/// What an idempotency key stands for. Stored as `{"state":"pending",...}` or
/// `{"state":"completed",...}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum IdempotencyRecord {
    /// A request with this key is being processed.
    Pending {
        /// Fingerprint (hash of method, path and body) of the request that claimed the key.
        fingerprint: String,
    },
    /// A request with this key finished; retries get its response.
    Completed {
        /// Fingerprint of the request that produced the response.
        fingerprint: String,
        /// HTTP status of the stored response.
        status: u16,
        /// Body of the stored response.
        body: String,
    },
}

impl IdempotencyRecord {
    fn fingerprint(&self) -> &str {
        match self {
            Self::Pending { fingerprint } | Self::Completed { fingerprint, .. } => fingerprint,
        }
    }
}

/// Outcome of [`StateSurface::idempotency_begin`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdempotencyBegin {
    /// The key was free and is now claimed by this request: process it, then call
    /// [`StateSurface::idempotency_complete`] (or [`StateSurface::idempotency_abort`] on failure).
    Fresh,
    /// Another request with the same key and fingerprint is still being processed (answer 409
    /// and let the client retry).
    InProgress,
    /// The same request already completed: replay this response.
    Completed {
        /// HTTP status of the stored response.
        status: u16,
        /// Body of the stored response.
        body: String,
    },
    /// The key was used for a different request (answer 422).
    Mismatch,
}

/// Progress of a long-running operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Progress {
    /// The operation reported on.
    pub operation_id: String,
    /// Owning tenant.
    pub tenant_id: String,
    /// Completion, 0..=100.
    pub percent: u8,
    /// Human-readable status line.
    pub message: String,
    /// Time of this report, epoch milliseconds.
    pub updated_at: i64,
}

/// Metadata of a stored file; the bytes live elsewhere, at `uri`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FileRef {
    /// File id.
    pub file_id: String,
    /// Owning tenant.
    pub tenant_id: String,
    /// Session the file was uploaded in.
    pub session_id: String,
    /// Where the bytes are.
    pub uri: String,
    /// MIME type.
    pub content_type: String,
    /// Size in bytes.
    pub size: u64,
    /// Hex SHA-256 of the bytes.
    pub sha256: String,
}

fn session_key(tenant_id: &str, session_id: &str) -> String {
    format!("session:{tenant_id}:{session_id}")
}

fn user_sessions_key(tenant_id: &str, user_id: &str) -> String {
    format!("user_sessions:{tenant_id}:{user_id}")
}

fn execution_key(tenant_id: &str, execution_id: &str) -> String {
    format!("execution:{tenant_id}:{execution_id}")
}

fn idempotency_key(scope: &str, key: &str) -> String {
    format!("idempotency:{scope}:{key}")
}

fn progress_key(tenant_id: &str, operation_id: &str) -> String {
    format!("progress:{tenant_id}:{operation_id}")
}

fn file_key(tenant_id: &str, file_id: &str) -> String {
    format!("file:{tenant_id}:{file_id}")
}

/// How often [`StateSurface::idempotency_begin`] retries when the record vanishes between its
/// claim attempt and its read (expired or aborted in between).
const IDEMPOTENCY_ATTEMPTS: usize = 3;

impl StateSurface {
    /// Writes a session record with `ttl` and, for a session with a user, lists it in the user's
    /// index. The index is written first: an index entry whose record expired is harmless
    /// (readers skip and prune it), a record missing from the index could not be ended by
    /// "log out everywhere".
    pub async fn put_session(
        &self,
        record: &SessionRecord,
        ttl: Duration,
    ) -> Result<(), StateError> {
        self.index_session(record, ttl).await?;
        let key = session_key(&record.tenant_id, &record.session_id);
        self.put_json(&key, record, Some(ttl)).await
    }

    /// Creates a session record only if none exists under its id; true when it was created.
    pub async fn create_session_if_absent(
        &self,
        record: &SessionRecord,
        ttl: Duration,
    ) -> Result<bool, StateError> {
        let key = session_key(&record.tenant_id, &record.session_id);
        if !self
            .store
            .set_if_absent(&key, &encode(record)?, Some(ttl))
            .await?
        {
            return Ok(false);
        }
        if let Err(e) = self.index_session(record, ttl).await {
            // Best effort: do not leave a session its user cannot list or end.
            let _ = self.store.delete(&key).await;
            return Err(e);
        }
        Ok(true)
    }

    /// The session `session_id` of `tenant_id`, `None` if absent, expired or another tenant's.
    pub async fn get_session(
        &self,
        tenant_id: &str,
        session_id: &str,
    ) -> Result<Option<SessionRecord>, StateError> {
        let record: Option<SessionRecord> =
            self.get_json(&session_key(tenant_id, session_id)).await?;
        Ok(record.filter(|r| r.tenant_id == tenant_id && r.session_id == session_id))
    }

    /// Ids in the user's session index. Some may belong to records that have since expired;
    /// callers skip those and drop them with [`StateSurface::remove_from_user_index`].
    pub async fn session_ids_of_user(
        &self,
        tenant_id: &str,
        user_id: &str,
    ) -> Result<Vec<String>, StateError> {
        self.store
            .index_members(&user_sessions_key(tenant_id, user_id))
            .await
    }

    /// Removes one session id from the user's index.
    pub async fn remove_from_user_index(
        &self,
        tenant_id: &str,
        user_id: &str,
        session_id: &str,
    ) -> Result<(), StateError> {
        self.store
            .index_remove(&user_sessions_key(tenant_id, user_id), session_id)
            .await
    }

    /// Adds the session to its user's index, keeping the index alive at least as long as this
    /// session. The index TTL is only ever raised, so a short-lived session does not cut the
    /// index of a longer-lived one.
    async fn index_session(&self, record: &SessionRecord, ttl: Duration) -> Result<(), StateError> {
        let Some(user_id) = &record.user_id else {
            return Ok(());
        };
        let index = user_sessions_key(&record.tenant_id, user_id);
        let index_ttl = match self.store.ttl(&index).await? {
            Some(remaining) if remaining >= ttl => None,
            _ => Some(ttl),
        };
        self.store
            .index_add(&index, &record.session_id, index_ttl)
            .await
    }

    /// Stores the state of an execution (any JSON), replacing the previous state.
    pub async fn put_execution_state(
        &self,
        tenant_id: &str,
        execution_id: &str,
        state: &serde_json::Value,
        ttl: Option<Duration>,
    ) -> Result<(), StateError> {
        self.put_json(&execution_key(tenant_id, execution_id), state, ttl)
            .await
    }

    /// The stored state of an execution, `None` if absent or expired.
    pub async fn get_execution_state(
        &self,
        tenant_id: &str,
        execution_id: &str,
    ) -> Result<Option<serde_json::Value>, StateError> {
        self.get_json(&execution_key(tenant_id, execution_id)).await
    }

    /// Claims idempotency key `key` in `scope` for a request with `fingerprint`, or reports what
    /// the key already stands for. A claim (a pending record) lives `ttl`, so a crashed request
    /// frees its key eventually.
    pub async fn idempotency_begin(
        &self,
        scope: &str,
        key: &str,
        fingerprint: &str,
        ttl: Duration,
    ) -> Result<IdempotencyBegin, StateError> {
        let storage_key = idempotency_key(scope, key);
        let pending = encode(&IdempotencyRecord::Pending {
            fingerprint: fingerprint.to_owned(),
        })?;
        for _ in 0..IDEMPOTENCY_ATTEMPTS {
            if self
                .store
                .set_if_absent(&storage_key, &pending, Some(ttl))
                .await?
            {
                return Ok(IdempotencyBegin::Fresh);
            }
            let Some(record) = self.get_json::<IdempotencyRecord>(&storage_key).await? else {
                continue;
            };
            return Ok(match record {
                r if r.fingerprint() != fingerprint => IdempotencyBegin::Mismatch,
                IdempotencyRecord::Pending { .. } => IdempotencyBegin::InProgress,
                IdempotencyRecord::Completed { status, body, .. } => {
                    IdempotencyBegin::Completed { status, body }
                }
            });
        }
        // The key keeps appearing and vanishing: someone else is busy with it.
        Ok(IdempotencyBegin::InProgress)
    }

    /// Stores the response of the request that claimed the key; retries replay it for `ttl`.
    pub async fn idempotency_complete(
        &self,
        scope: &str,
        key: &str,
        fingerprint: &str,
        status: u16,
        body: &str,
        ttl: Duration,
    ) -> Result<(), StateError> {
        let record = IdempotencyRecord::Completed {
            fingerprint: fingerprint.to_owned(),
            status,
            body: body.to_owned(),
        };
        self.put_json(&idempotency_key(scope, key), &record, Some(ttl))
            .await
    }

    /// Releases a claimed key after a failure, so that a retry can proceed.
    pub async fn idempotency_abort(&self, scope: &str, key: &str) -> Result<(), StateError> {
        self.store.delete(&idempotency_key(scope, key)).await?;
        Ok(())
    }

    /// Stores an operation's progress, replacing the previous report. A percent above 100 is
    /// refused with [`StateError::Invalid`].
    pub async fn set_progress(&self, progress: &Progress, ttl: Duration) -> Result<(), StateError> {
        if progress.percent > 100 {
            return Err(StateError::Invalid(format!(
                "progress percent must be 0..=100, got {}",
                progress.percent
            )));
        }
        let key = progress_key(&progress.tenant_id, &progress.operation_id);
        self.put_json(&key, progress, Some(ttl)).await
    }

    /// The latest progress of an operation, `None` if absent, expired or another tenant's.
    pub async fn get_progress(
        &self,
        tenant_id: &str,
        operation_id: &str,
    ) -> Result<Option<Progress>, StateError> {
        let progress: Option<Progress> = self
            .get_json(&progress_key(tenant_id, operation_id))
            .await?;
        Ok(progress.filter(|p| p.tenant_id == tenant_id && p.operation_id == operation_id))
    }

    /// Stores a file reference; no `ttl` keeps it until deleted.
    pub async fn put_file_ref(
        &self,
        file: &FileRef,
        ttl: Option<Duration>,
    ) -> Result<(), StateError> {
        self.put_json(&file_key(&file.tenant_id, &file.file_id), file, ttl)
            .await
    }

    /// The file reference `file_id` of `tenant_id`, `None` if absent or another tenant's.
    pub async fn get_file_ref(
        &self,
        tenant_id: &str,
        file_id: &str,
    ) -> Result<Option<FileRef>, StateError> {
        let file: Option<FileRef> = self.get_json(&file_key(tenant_id, file_id)).await?;
        Ok(file.filter(|f| f.tenant_id == tenant_id && f.file_id == file_id))
    }

    /// Deletes the file reference `file_id` of `tenant_id`; true when one was deleted. Another
    /// tenant's reference is never touched.
    pub async fn delete_file_ref(
        &self,
        tenant_id: &str,
        file_id: &str,
    ) -> Result<bool, StateError> {
        if self.get_file_ref(tenant_id, file_id).await?.is_none() {
            return Ok(false);
        }
        self.store.delete(&file_key(tenant_id, file_id)).await
    }
}
