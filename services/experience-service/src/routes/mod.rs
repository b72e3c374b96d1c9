//! HTTP routes of the experience plane, one module per resource, each with `configure`.

pub mod agent;
pub mod auth;
pub mod conversations;
pub mod health;
pub mod sessions;
