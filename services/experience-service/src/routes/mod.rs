//! HTTP routes of the experience plane, one module per resource, each with `configure`.

pub mod auth;
pub mod health;
pub mod sessions;
