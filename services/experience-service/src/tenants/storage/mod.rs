//! SQL of tenants, members, invitations, API keys and access changes (one `AnyPool`,
//! PostgreSQL or SQLite, portable queries). Every query on tenant-owned rows filters by the
//! caller's tenant, so another tenant's id finds nothing (`404`).

pub mod api_keys;
pub mod changes;
pub mod invitations;
pub mod members;

/// A transaction on the experience database.
pub type Tx<'a> = sqlx::Transaction<'a, sqlx::Any>;
