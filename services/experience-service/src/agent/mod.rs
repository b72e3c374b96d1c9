//! The agent WebSocket gateway (`/api/runtime/agent`, SPEC §4).
//!
//! The experience plane authenticates the socket, turns client messages into signed intents for
//! the runtime, and forwards the session's durable event log (followed over SSE from the runtime)
//! to the client as `runtime_event` frames, each event exactly once and in order.
//!
//! - [`protocol`]: client message parsing (both the frontend's and the original backend's
//!   formats) and server frames.
//! - [`sockets`]: the registry of open sockets, so a logout (4401) or a shutdown (1001) reaches
//!   them.
//! - [`connection`]: one socket's life: heartbeats, idle close, rate limit, bounded queue, resume.

pub mod connection;
pub mod protocol;
pub mod sockets;
