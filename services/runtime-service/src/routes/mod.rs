//! HTTP routes of the runtime plane, one module per resource, each with `configure`.

pub mod health;
pub mod sessions;
