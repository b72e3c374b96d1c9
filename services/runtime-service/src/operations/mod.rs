//! The operations hub (SPEC §14): one view over the platform's own long-running work —
//! executions, multimodal requests, deployments and multi-agent contexts — and an operator's
//! controls over it (pause, resume, cancel), each kept with its reason
//! (docs/adr/0023-operations-hub.md).
//!
//! - [`routes`]: the hub, a process's detail, a control.
//! - [`query`]: the hub's query rules (include, since, status, limit).
//! - [`service`]: [`Operations`]: merges the sources, dispatches by the kind an id names, keeps
//!   the audit trail.
//! - [`sources`]: one module per kind of process (list, detail, control) and the live states.
//! - [`storage`]: the `operations_audit` table.

pub mod query;
pub mod routes;
pub mod service;
pub mod sources;
pub mod storage;

pub use service::Operations;
