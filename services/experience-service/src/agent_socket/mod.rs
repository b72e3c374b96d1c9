//! The agent WebSocket (`/api/runtime/agent`, SPEC §4).
//!
//! The experience plane authenticates the socket, turns client messages into signed intents for
//! the runtime, and forwards the session's durable event log (followed over SSE from the runtime)
//! to the client as `runtime_event` frames, each event exactly once and in order.
//!
//! - [`route`]: the pre-upgrade checks (401 / 403 / 503 with the error body) and the upgrade.
//! - [`connection`]: the per-socket loop; it only selects between the parts below.
//! - [`hub`]: one runtime stream per session per replica, fanned out to its sockets.
//! - [`follower`]: a socket's event cursor: the shared stream, or a private one (resume, lag),
//!   with reconnects and stall detection.
//! - [`commands`]: what each client message does; runtime answers come back as outcomes.
//! - [`rate`]: the token bucket behind the per-connection and per-user limits.
//! - [`protocol`]: client message parsing (the frontend's and the original backend's formats)
//!   and server frames.
//! - [`sockets`]: the registry of open sockets (per-session and per-user caps, the per-user turn
//!   budget), so a logout (4401) or a shutdown (1001) reaches them.

pub mod commands;
pub mod connection;
pub mod follower;
pub mod hub;
pub mod protocol;
pub mod rate;
pub mod route;
pub mod sockets;
