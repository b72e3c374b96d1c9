//! SQL storage of the runtime plane (SQLite or PostgreSQL through one `AnyPool`).

pub mod audit;
pub mod events;
pub mod executions;

/// True when the error is a unique-constraint violation.
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
}
