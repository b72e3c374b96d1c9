//! API keys (SPEC §5): create (shown once), list, revoke, and authenticate a presented key.
//!
//! Authenticating reads the database only on first sight of a key (and again after
//! [`CACHE_MS`]); revocations and the creator's role changes reach the cached entry through the
//! polled [`AccessChanges`] within a second on every replica (ADR 0010). A key acts as its
//! creator, for its tenant, with its scopes narrowed to what the creator's current role grants.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use platform_sdk::security_guard::scopes::ALL_SCOPES;
use platform_sdk::security_guard::{AccessClaims, Role, ScopeSet};
use platform_sdk::time_util::{now_ms, rfc3339_ms};
use sqlx::AnyPool;
use time::format_description::well_known::Rfc3339;

use super::domain::bucket::KeyBuckets;
use super::domain::changes::{AccessChanges, Change, Dated, Standing};
use super::domain::names::Name;
use super::domain::secrets;
use super::dto::{ApiKey, ApiKeyList, CreateApiKey, NewApiKey};
use super::storage::{self, api_keys::KeyRow};
use crate::error::ApiError;
use crate::extractors::AuthUser;
use platform_sdk::page::{Cursor, PageRequest};

/// A cached key (or its absence) is re-read after this long, milliseconds.
pub const CACHE_MS: i64 = 60_000;
/// A revoked key is remembered in memory this long (longer than [`CACHE_MS`]), milliseconds.
const REVOKED_MEMORY_MS: i64 = 10 * 60_000;
/// Keys (and unknown hashes) cached at most; the cache is cleared past it.
const MAX_CACHED: usize = 100_000;
/// Most scopes a key may hold.
const MAX_SCOPES: usize = 32;

type Cached = (Option<Arc<KeyRow>>, i64);

/// The API-key service; one per process.
pub struct ApiKeys {
    pool: AnyPool,
    changes: AccessChanges,
    cache: RwLock<HashMap<String, Cached>>,
    buckets: KeyBuckets,
}

fn view(row: &KeyRow) -> ApiKey {
    ApiKey {
        key_id: row.id.clone(),
        name: row.name.clone(),
        scopes: row.scopes.split_whitespace().map(str::to_owned).collect(),
        key_prefix: row.key_prefix.clone(),
        created_by: row.created_by.clone(),
        created_at: rfc3339_ms(row.created_at),
        expires_at: row.expires_at.map(rfc3339_ms),
        revoked_at: row.revoked_at.map(rfc3339_ms),
    }
}

/// The scope of the catalogue named `name` (as the `'static` string errors carry).
fn known_scope(name: &str) -> Option<&'static str> {
    ALL_SCOPES.iter().copied().find(|s| *s == name)
}

impl ApiKeys {
    /// The service; `rate`/`burst` throttle each key.
    pub fn new(pool: AnyPool, changes: AccessChanges, rate: f64, burst: f64) -> Self {
        Self {
            pool,
            changes,
            cache: RwLock::default(),
            buckets: KeyBuckets::new(rate, burst),
        }
    }

    async fn lookup(&self, hash: &str) -> Result<Option<Arc<KeyRow>>, ApiError> {
        let now = now_ms();
        if let Ok(cache) = self.cache.read() {
            if let Some((hit, at)) = cache.get(hash) {
                if now - at < CACHE_MS {
                    return Ok(hit.clone());
                }
            }
        }
        let row = storage::api_keys::find_by_hash(&self.pool, hash)
            .await?
            .map(Arc::new);
        if let Ok(mut cache) = self.cache.write() {
            if cache.len() >= MAX_CACHED {
                cache.clear();
            }
            cache.insert(hash.to_owned(), (row.clone(), now));
        }
        Ok(row)
    }

    /// Authenticates a presented key: `401` when unknown, revoked, expired or its creator left
    /// the tenant; `429` over the per-key rate.
    pub async fn authenticate(&self, key: &str) -> Result<AccessClaims, ApiError> {
        if !secrets::is_api_key(key) || !secrets::plausible(key) {
            return Err(ApiError::Unauthenticated);
        }
        let row = self
            .lookup(&secrets::hash(key))
            .await?
            .ok_or(ApiError::Unauthenticated)?;
        let now = now_ms();
        if row.revoked_at.is_some()
            || self.changes.key_revoked(&row.id)
            || row.expires_at.is_some_and(|at| at <= now)
        {
            return Err(ApiError::Unauthenticated);
        }
        let creator = match self.changes.standing(&row.tenant_id, &row.created_by) {
            Standing::Unchanged => row.creator_role.as_deref().and_then(Role::parse),
            Standing::Role(role) => Some(role),
            Standing::Removed => None,
        }
        .ok_or(ApiError::Unauthenticated)?;
        let scopes = ScopeSet::parse(&row.scopes).within(&ScopeSet::for_roles(&[creator]));
        self.buckets
            .take(&row.id)
            .map_err(|retry_after_secs| ApiError::RateLimited { retry_after_secs })?;
        let uuid = row.id.strip_prefix("key_").unwrap_or(&row.id);
        Ok(AccessClaims {
            sub: row.created_by.clone(),
            tid: row.tenant_id.clone(),
            sid: uuid::Uuid::parse_str(uuid)
                .map(|u| u.to_string())
                .unwrap_or_else(|_| row.id.clone()),
            roles: Vec::new(),
            scope: scopes.to_claim(),
            iat: row.created_at / 1000,
            nbf: row.created_at / 1000,
            exp: row.expires_at.map_or(i64::MAX / 1000, |at| at / 1000),
            iss: "api-key".into(),
            aud: String::new(),
            jti: row.id.clone(),
        })
    }

    /// Creates a key for the caller's tenant, acting as the caller (a key creating a key acts as
    /// the same creator); scopes never beyond the caller's own.
    pub async fn create(&self, who: &AuthUser, req: CreateApiKey) -> Result<NewApiKey, ApiError> {
        let mut fields = Vec::new();
        let name = Name::parse(&req.name)
            .map_err(|e| fields.push(("name".to_owned(), e.to_string())))
            .ok();
        let mut scopes = Vec::new();
        if req.scopes.is_empty() || req.scopes.len() > MAX_SCOPES {
            fields.push(("scopes".into(), "must hold 1 to 32 scopes".into()));
        }
        for (i, raw) in req.scopes.iter().enumerate() {
            match known_scope(raw) {
                Some(scope) => scopes.push(scope),
                None => fields.push((
                    format!("scopes[{i}]"),
                    format!(
                        "unknown scope `{}`",
                        raw.chars().take(64).collect::<String>()
                    ),
                )),
            }
        }
        let now = now_ms();
        let expires_at = match req.expires_at.as_deref() {
            None => None,
            Some(raw) => match time::OffsetDateTime::parse(raw, &Rfc3339) {
                Ok(at) => {
                    let ms = (at.unix_timestamp_nanos() / 1_000_000) as i64;
                    if ms <= now {
                        fields.push(("expires_at".into(), "must be in the future".into()));
                    }
                    Some(ms)
                }
                Err(_) => {
                    fields.push(("expires_at".into(), "must be an RFC 3339 date-time".into()));
                    None
                }
            },
        };
        let (Some(name), true) = (name, fields.is_empty()) else {
            return Err(ApiError::Validation(
                fields
                    .into_iter()
                    .map(|(field, message)| platform_sdk::error::FieldError { field, message })
                    .collect(),
            ));
        };
        let mine = who.0.scopes();
        if let Some(beyond) = scopes.iter().find(|s| !mine.grants(s)) {
            return Err(ApiError::MissingScope(beyond));
        }
        let scopes = ScopeSet::of(scopes.into_iter().map(str::to_owned));
        let key = secrets::new_key();
        let id = format!("key_{}", uuid::Uuid::new_v4().simple());
        storage::api_keys::insert(
            &self.pool,
            &storage::api_keys::NewKey {
                id: &id,
                tenant_id: &who.0.tid,
                created_by: &who.0.sub,
                name: name.as_str(),
                scopes: &scopes.to_claim(),
                key_hash: &secrets::hash(&key),
                key_prefix: &secrets::shown_part(&key),
                now,
                expires_at,
            },
        )
        .await?;
        tracing::info!(key_id = %id, tenant_id = %who.0.tid, created_by = %who.0.sub, "API key created");
        Ok(NewApiKey {
            key_id: id,
            key,
            name: name.as_str().to_owned(),
            scopes: scopes.as_slice().to_vec(),
            created_at: rfc3339_ms(now),
            expires_at: expires_at.map(rfc3339_ms),
        })
    }

    /// A page of the tenant's keys, newest first (no key material).
    pub async fn list(&self, tenant_id: &str, page: &PageRequest) -> Result<ApiKeyList, ApiError> {
        let mut rows =
            storage::api_keys::list(&self.pool, tenant_id, page.after.as_ref(), page.fetch())
                .await?;
        let next_cursor = page.finish(&mut rows, |r| Cursor {
            key: r.created_at,
            id: r.id.clone(),
        });
        Ok(ApiKeyList {
            items: rows.iter().map(view).collect(),
            next_cursor,
        })
    }

    /// Revokes one of the tenant's keys (another tenant's: `404`); idempotent. Refused on every
    /// replica within a second.
    pub async fn revoke(&self, tenant_id: &str, key_id: &str) -> Result<(), ApiError> {
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        match storage::api_keys::revoke(&mut tx, tenant_id, key_id, now).await? {
            None => return Err(ApiError::NotFound("API key")),
            Some(false) => return Ok(()),
            Some(true) => {}
        }
        let dated = Dated {
            change: Change::KeyRevoked {
                key_id: key_id.to_owned(),
            },
            changed_at: now,
            forget_after: now + REVOKED_MEMORY_MS,
        };
        storage::changes::record(&mut tx, tenant_id, &dated).await?;
        tx.commit().await?;
        self.changes.apply([dated]);
        tracing::info!(key_id = %key_id, tenant_id = %tenant_id, "API key revoked");
        Ok(())
    }
}
