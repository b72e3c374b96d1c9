//! The tenant's hash-chained audit log (SPEC §10): every decision and every governance-loop
//! justification is one entry, `entry_hash = sha256(previous_hash "\n" canonical(entry))`.
//!
//! Appending runs inside the caller's transaction (the one that accepts or ends a turn, or the
//! evaluate request's own), so an entry exists exactly when what it records does. It starts with
//! [`lock`], an `UPDATE governance_tenants … RETURNING` that takes the tenant row's lock
//! (PostgreSQL) or the database write lock (SQLite) before the previous hash is read, so two
//! appends — on one replica or two — can never link to the same entry.
//!
//! [`verify`] walks the whole chain in `seq` order and reports the first link that does not hold:
//! an entry whose hash no longer matches its content (`modified`), a gap in `seq` or a tip that
//! is not the recorded head (`missing`), or an entry whose `previous_hash` is not its
//! predecessor's hash (`relinked`).

use platform_sdk::governance_wire::{AuditLink, BrokenLink, ChainCheck};
use platform_sdk::traffic_cop::canonical_json;
use serde_json::Value;
use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, AnyPool, Row as _};

/// The previous hash of a chain's first entry.
pub const GENESIS: &str = "sha256:0000000000000000000000000000000000000000000000000000000000000000";

/// Rows a verification reads per query.
const VERIFY_PAGE: i64 = 1000;

/// The hash of `entry` after `previous`.
pub fn entry_hash(previous: &str, canonical_entry: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(previous.as_bytes());
    hasher.update(b"\n");
    hasher.update(canonical_entry.as_bytes());
    let digest = hasher.finalize();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// Makes the tenant's governance row if it has none: true when it was made now (the caller then
/// creates the tenant's default policies in the same transaction).
pub async fn ensure_tenant(conn: &mut AnyConnection, tenant_id: &str) -> Result<bool, sqlx::Error> {
    let made = sqlx::query(
        "INSERT INTO governance_tenants (tenant_id, policy_version, chain_seq, chain_head) \
         VALUES ($1, 0, 0, $2) ON CONFLICT (tenant_id) DO NOTHING",
    )
    .bind(tenant_id)
    .bind(GENESIS)
    .execute(&mut *conn)
    .await?;
    Ok(made.rows_affected() == 1)
}

/// One appended entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appended {
    /// Its position, from 1.
    pub seq: i64,
    /// Its hashes.
    pub link: AuditLink,
}

/// The locked tip of a tenant's chain, inside the caller's transaction: [`Tip::append`] entries,
/// then [`Tip::save`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tip {
    tenant_id: String,
    seq: i64,
    head: String,
    /// The tenant's policy version, read under the same lock.
    pub policy_version: i64,
}

/// Locks the tenant's chain (its `governance_tenants` row) for the rest of the caller's
/// transaction; `None` when the tenant has no row yet ([`ensure_tenant`]).
pub async fn lock(conn: &mut AnyConnection, tenant_id: &str) -> Result<Option<Tip>, sqlx::Error> {
    // A write that changes nothing: it takes the row lock (the write lock on SQLite) before the
    // tip is read.
    let row = sqlx::query(
        "UPDATE governance_tenants SET chain_seq = chain_seq WHERE tenant_id = $1 \
         RETURNING chain_seq, chain_head, policy_version",
    )
    .bind(tenant_id)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|row| {
        Ok(Tip {
            tenant_id: tenant_id.to_owned(),
            seq: row.try_get(0)?,
            head: row.try_get(1)?,
            policy_version: row.try_get(2)?,
        })
    })
    .transpose()
}

impl Tip {
    /// Appends `entry` (`kind` `decision` or `justification`) after the tip.
    pub async fn append(
        &mut self,
        conn: &mut AnyConnection,
        kind: &str,
        entry_id: &str,
        entry: &Value,
        now: i64,
    ) -> Result<Appended, sqlx::Error> {
        let canonical = canonical_json(entry);
        let hash = entry_hash(&self.head, &canonical);
        let seq = self.seq + 1;
        sqlx::query(
            "INSERT INTO governance_audit (tenant_id, seq, entry_id, kind, entry, previous_hash, \
             entry_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&self.tenant_id)
        .bind(seq)
        .bind(entry_id)
        .bind(kind)
        .bind(&canonical)
        .bind(&self.head)
        .bind(&hash)
        .bind(now)
        .execute(&mut *conn)
        .await?;
        let previous = std::mem::replace(&mut self.head, hash.clone());
        self.seq = seq;
        Ok(Appended {
            seq,
            link: AuditLink {
                entry_hash: hash,
                previous_entry_hash: previous,
            },
        })
    }

    /// Records the new tip.
    pub async fn save(&self, conn: &mut AnyConnection) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE governance_tenants SET chain_seq = $1, chain_head = $2 WHERE tenant_id = $3",
        )
        .bind(self.seq)
        .bind(&self.head)
        .bind(&self.tenant_id)
        .execute(&mut *conn)
        .await?;
        Ok(())
    }
}

/// Walks the tenant's whole chain and reports the first broken link.
pub async fn verify(pool: &AnyPool, tenant_id: &str) -> Result<ChainCheck, sqlx::Error> {
    let head =
        sqlx::query("SELECT chain_seq, chain_head FROM governance_tenants WHERE tenant_id = $1")
            .bind(tenant_id)
            .fetch_optional(pool)
            .await?;
    let (head_seq, head_hash): (i64, String) = match head {
        Some(row) => (row.try_get(0)?, row.try_get(1)?),
        None => (0, GENESIS.to_owned()),
    };
    let mut previous = GENESIS.to_owned();
    let mut expected = 1_i64;
    let broken = |seq, entry_id: Option<String>, problem: &str| BrokenLink {
        seq,
        entry_id,
        problem: problem.to_owned(),
    };
    loop {
        let rows = sqlx::query(
            "SELECT seq, entry_id, entry, previous_hash, entry_hash FROM governance_audit \
             WHERE tenant_id = $1 AND seq >= $2 ORDER BY seq LIMIT $3",
        )
        .bind(tenant_id)
        .bind(expected)
        .bind(VERIFY_PAGE)
        .fetch_all(pool)
        .await?;
        let done = (rows.len() as i64) < VERIFY_PAGE;
        for row in rows {
            let seq: i64 = row.try_get(0)?;
            let entry_id: String = row.try_get(1)?;
            let entry: String = row.try_get(2)?;
            let previous_hash: String = row.try_get(3)?;
            let hash: String = row.try_get(4)?;
            let problem = if seq != expected {
                Some(broken(expected, None, "missing"))
            } else if previous_hash != previous {
                Some(broken(seq, Some(entry_id.clone()), "relinked"))
            } else if entry_hash(&previous_hash, &entry) != hash {
                Some(broken(seq, Some(entry_id.clone()), "modified"))
            } else {
                None
            };
            if let Some(first_broken) = problem {
                return Ok(ChainCheck {
                    valid: false,
                    entries_checked: expected - 1,
                    first_broken: Some(first_broken),
                });
            }
            previous = hash;
            expected += 1;
        }
        if done {
            break;
        }
    }
    let checked = expected - 1;
    if checked != head_seq || previous != head_hash {
        return Ok(ChainCheck {
            valid: false,
            entries_checked: checked,
            first_broken: Some(broken(expected, None, "missing")),
        });
    }
    Ok(ChainCheck {
        valid: true,
        entries_checked: checked,
        first_broken: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_covers_the_previous_hash_and_the_entry() {
        let a = entry_hash(GENESIS, r#"{"a":1}"#);
        assert!(a.starts_with("sha256:") && a.len() == 7 + 64);
        assert_ne!(a, entry_hash(GENESIS, r#"{"a":2}"#));
        assert_ne!(a, entry_hash(&a, r#"{"a":1}"#));
        assert_eq!(a, entry_hash(GENESIS, r#"{"a":1}"#));
    }
}
