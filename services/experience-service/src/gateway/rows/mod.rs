//! The gateway's rows, one module per capability; [`GROUPS`] lists them all.

pub mod agents;
pub mod conversations;
pub mod profiles;
pub mod trust;
pub mod usage;

use super::table::Row;

/// Every group of rows the experience plane serves.
pub const GROUPS: &[&[Row]] = &[
    conversations::ROWS,
    agents::ROWS,
    profiles::ROWS,
    usage::ROWS,
    trust::ROWS,
];
