//! Multimodal requests (SPEC §15): speech-to-text, text-to-speech and image analysis, each a
//! request checked against its tenant's policy, run as a runtime execution, with a result.
//!
//! - [`rules`]: what a valid request and policy are (first failing policy rule wins), and the
//!   lifecycle `pending → processing → completed | failed`, `pending | processing → cancelled`,
//!   `failed → processing`.
//! - [`service`]: [`Multimodal`]: requests, results, artifacts and policies.
//! - [`run`]: a run as an execution: lease, time limit, cancel, events.
//! - [`reconcile`]: requests whose execution was ended elsewhere (a lost replica).
//! - [`adapters`]: who does the work: `builtin` (offline, measures real media) or `openai`.
//! - [`routes`]: the endpoints the experience gateway forwards to.
//! - [`storage`]: requests, results, content-addressed artifacts and policies in SQL.
//!
//! Design and trade-offs: docs/adr/0022-multimodal.md.

pub mod adapters;
pub mod reconcile;
pub mod routes;
pub mod rules;
pub mod run;
pub mod service;
pub mod storage;

pub use service::{Multimodal, MultimodalDeps};

/// The prefix of request ids.
pub const REQUEST_PREFIX: &str = "mmreq_";
/// The prefix of result ids.
pub const RESULT_PREFIX: &str = "mmres_";
/// The largest request body of the create endpoint: a 5 MB artifact is ~6.7 MB of base64, plus
/// the rest of the (signed) body.
pub const BODY_LIMIT_BYTES: usize = 8 * 1024 * 1024;
