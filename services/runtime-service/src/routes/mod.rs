//! HTTP routes of the runtime plane, one module per resource, each with `configure`.

pub mod executions;
pub mod health;
pub mod history;
pub mod sessions;
pub mod streams;
