//! The gateway's rows, one module per capability; [`GROUPS`] lists them all.

pub mod conversations;
pub mod profiles;

use super::table::{Row, Verb};

/// The request body schemas of intent rows, `(method, path, schema name)`, one list per group
/// that documents its bodies (`super::openapi` puts them in `/openapi.json`).
pub const REQUEST_BODIES: &[&[(Verb, &str, &str)]] = &[profiles::REQUEST_BODIES];

/// Every group of rows the experience plane serves.
pub const GROUPS: &[&[Row]] = &[conversations::ROWS, profiles::ROWS];
