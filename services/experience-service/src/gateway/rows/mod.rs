//! The gateway's rows, one module per capability; [`GROUPS`] lists them all.

pub mod agents;
pub mod conversations;
pub mod governance;
pub mod operations;
pub mod outcomes;
pub mod profiles;
pub mod trust;
pub mod usage;

use super::table::Row;

/// `governance:read`.
pub const GOVERNANCE_READ: &str = "governance:read";
/// `governance:write`.
pub const GOVERNANCE_WRITE: &str = "governance:write";

/// Every group of rows the experience plane serves.
pub const GROUPS: &[&[Row]] = &[
    conversations::ROWS,
    agents::ROWS,
    profiles::ROWS,
    usage::ROWS,
    governance::ROWS,
    trust::ROWS,
    outcomes::ROWS,
    operations::ROWS,
];
