//! The agent WebSocket (`/api/runtime/agent`, SPEC §4).
//!
//! The experience plane authenticates the socket, turns client messages into signed intents for
//! the runtime, and forwards the session's durable event log (followed over SSE from the runtime)
//! to the client as `runtime_event` frames, each event exactly once and in order.
//!
//! - [`route`]: the pre-upgrade checks (401 / 403 / 503 with the error body) and the upgrade.
//! - [`connection`]: the per-socket loop; it only selects between the parts below.
//! - [`follower`]: the session's event stream, its cursor, reconnects and stall detection.
//! - [`commands`]: what each client message does; runtime answers come back as outcomes.
//! - [`rate`]: the per-connection message rate limit.
//! - [`protocol`]: client message parsing (the frontend's and the original backend's formats)
//!   and server frames.
//! - [`sockets`]: the registry of open sockets, so a logout (4401) or a shutdown (1001) reaches
//!   them.

pub mod commands;
pub mod connection;
pub mod follower;
pub mod protocol;
pub mod rate;
pub mod route;
pub mod sockets;
