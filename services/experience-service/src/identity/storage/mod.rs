//! SQL of the experience plane (one `AnyPool`, PostgreSQL or SQLite, portable queries).
//! Every query on tenant-owned rows filters by the caller's tenant.

pub mod refresh;
pub mod revocations;
pub mod users;

pub use platform_sdk::db::is_unique_violation;
