//! Usage analytics (SPEC §11, docs/adr/0018-usage-analytics.md): how much each agent is used by a
//! tenant, how well and how fast, read from counters kept up to date as executions end — never by
//! scanning executions or the event log per request.
//!
//! - [`routes`]: `POST /api/agents/{id}/track`, `GET …/metrics`, `…/performance`, `…/activity`.
//! - [`service`]: [`Usage`]: the agent check (404 for an id the tenant cannot name), tracking,
//!   and the reads.
//! - [`storage`]: the hour counters, last-seen users and conversations, tracked events
//!   ([`storage::count_ended`] is called by the executions storage in the transaction that ends
//!   an execution), and the activity feed's sources.
//! - [`counts`], [`histogram`], [`window`], [`track`], [`feed`]: the definitions (what an
//!   invocation, an error, a window is), latency percentiles, request parsing, feed paging.

pub mod counts;
pub mod feed;
pub mod histogram;
pub mod routes;
pub mod service;
pub mod storage;
pub mod track;
pub mod window;

pub use service::Usage;
