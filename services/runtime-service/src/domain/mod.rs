//! Domain rules of the runtime plane, free of HTTP: what a session and an execution are allowed
//! to become, and how events are logged and fanned out.

pub mod event_bus;
pub mod executions;
pub mod runner;
pub mod sessions;
