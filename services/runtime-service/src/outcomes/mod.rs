//! Outcomes (SPEC §16, docs/adr/0021-outcomes.md): measured results of what agents and their
//! users do — posted by clients, and recorded automatically for every finished execution — with
//! a trend per metric and a dashboard, read from index ranges and counters kept as events are
//! stored, never by scanning a tenant's events per request.
//!
//! - [`routes`]: `POST|GET /v1/outcomes/events`, `GET /v1/outcomes/trends/{metric_type}`,
//!   `GET /v1/outcomes/dashboard`.
//! - [`service`]: [`Outcomes`]: recording and the reads; [`service::of_execution`], the two
//!   outcomes of a finished execution (stored by `executions::storage::finish` in the
//!   transaction that ends it).
//! - [`storage`]: the events and the per (domain, event type, metric) counters.
//! - [`input`]: parsing the posted body and the query parameters.
//! - [`trend`]: the trend rule, a pure function.

pub mod input;
pub mod routes;
pub mod service;
pub mod storage;
pub mod trend;

pub use service::Outcomes;
