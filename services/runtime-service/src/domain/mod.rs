//! Domain rules of the runtime plane, free of HTTP: what a session is allowed to become.

pub mod sessions;
