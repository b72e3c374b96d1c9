//! Parsed types and rules of identity. Nothing here speaks HTTP or SQL.

pub mod email;
pub mod hasher;
pub mod password;
pub mod refresh_token;
pub mod revocation;
pub mod throttle;
