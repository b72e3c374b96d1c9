//! SQL of the experience plane (one `AnyPool`, PostgreSQL or SQLite, portable queries).
//! Every query on tenant-owned rows filters by the caller's tenant.

pub mod refresh;
pub mod revocations;
pub mod users;

/// True when the error is a unique-constraint violation.
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
}
