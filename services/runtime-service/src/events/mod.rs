//! The event log (SPEC §4 "stream guarantees"): a durable, ordered per-session log of everything
//! executions emit, fanned out live, readable as pages and followable with resume.
//!
//! - [`log`]: [`EventLog`]: append (and fan out), read pages, prune old events.
//! - [`bus`]: live fan-out across replicas over the State Surface's publish/subscribe.
//! - [`follow`]: the follow engine: backlog then live, de-duplicated, `EVENTS_LOST`, pings.
//! - [`routes`]: the JSON pages and the server-sent event streams.
//! - [`storage`]: the `session_events` table.

mod bus;
pub mod follow;
pub mod log;
pub mod routes;
pub mod storage;

pub use follow::{FeedItem, StreamScope};
pub use log::EventLog;
