//! The gateway's rows, one module per capability; [`GROUPS`] lists them all.

pub mod agents;
pub mod conversations;
pub mod governance;
pub mod multimodal;
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
    multimodal::ROWS,
];

/// Paths whose bodies may be larger than the server's default limit, with their limit.
pub const LARGE_BODIES: &[(&str, usize)] = &[(multimodal::REQUESTS, multimodal::BODY_LIMIT_BYTES)];
