//! Executions (SPEC §4): every agent turn is an execution with an id, a durable event log,
//! cancel, idempotency, safety hooks and a status that follows the explicit transition map.
//!
//! - [`routes`]: submit, read, cancel, answer a safety hook (by execution or within a session).
//! - [`service`]: [`Executions`]: accepting a turn (agent resolved by the catalog, history
//!   recorded, `Idempotency-Key` honoured) and reading it.
//! - [`control`]: the live controls of running executions (cancel, pending safety hooks).
//! - [`runner`]: one turn, start to finish.
//! - [`internal`]: turns the runtime runs for itself (multi-agent answers) and waits for.
//! - [`progress`]: the runner's status changes and the events they emit.
//! - [`lease`]: ownership across replicas: lease renewal and the sweep of lost executions.
//! - [`relay`]: safety answers and operator controls for executions another replica runs.
//! - [`operate`]: an operator's pause, resume and cancel (SPEC §14).
//! - [`storage`]: the `executions` table.

pub mod control;
pub mod gate;
pub mod internal;
pub mod lease;
pub mod operate;
mod progress;
pub mod relay;
pub mod routes;
pub mod runner;
pub mod service;
pub mod storage;

pub use internal::{InternalOutcome, InternalTurn};
pub use service::{Executions, ExecutionsDeps, Submission};
