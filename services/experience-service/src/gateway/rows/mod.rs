//! The gateway's rows, one module per capability; [`GROUPS`] lists them all.

pub mod agents;
pub mod conversations;
pub mod governance;
pub mod live;
pub mod multi_agent;
pub mod multimodal;
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
    multi_agent::ROWS,
    multimodal::ROWS,
    live::ROWS,
    operations::ROWS,
];

/// The total timeout of a runtime call for `action`, when it is longer than the runtime client's
/// (calls that wait on agents running); `None` for the client's own.
pub fn slow_action(action: &str) -> Option<std::time::Duration> {
    (action == platform_sdk::multi_agent_wire::actions::SEND_MESSAGE)
        .then_some(multi_agent::SEND_TIMEOUT)
}

/// Paths whose bodies may be larger than the server's default limit, with their limit.
pub const LARGE_BODIES: &[(&str, usize)] = &[(multimodal::REQUESTS, multimodal::BODY_LIMIT_BYTES)];
