//! # platform-sdk
//!
//! The contract between the two Symphainy planes. Both services and the end-to-end tests build on
//! these types, so a change to the wire contract breaks the build instead of production.
//!
//! - [`security_guard`]: JWT access tokens (claims, `kid` key rings, algorithm allow-list), roles
//!   and scopes, and the short-lived service token the experience plane presents to the runtime.
//! - [`traffic_cop`]: intents (execution contracts): building and signing them on the experience
//!   side, verifying signature, audience, expiry, action and replay on the runtime side.
//! - [`state_surface`]: the [`state_surface::StateStore`] abstraction with Redis and in-memory
//!   backends, plus the typed records kept in it (sessions, idempotency, progress, file refs).
//! - [`wire`], [`agent_wire`], [`wrapper_wire`] and [`error`]: request/response DTOs and the one error body used everywhere;
//!   [`profile_wire`]: agent profiles and signed attestations (SPEC §9).
//!   [`usage_wire`]: the DTOs of usage analytics (SPEC §11).
//!   [`trust_wire`]: trust, compliance and the governance loop (SPEC §10).
//!   [`outcome_wire`]: outcome events, trends and the dashboard (SPEC §16).
//!   [`live_wire`]: live events, notifications and event subscriptions (SPEC §13).
//! - [`runtime_client`]: the HTTP client the experience plane uses to reach the runtime (one
//!   signed-request path, shared by its typed calls and the experience gateway; the call itself
//!   is described in [`runtime_call`]), and
//!   [`runtime_stream`]: the runtime's session event stream, parsed.
//! - [`idempotency`]: claim → act → record-or-release over the State Surface, in one place.
//! - [`settings`], [`db`], [`http`], [`json`], [`operational`], [`server`], [`metrics`],
//!   [`telemetry`]: plumbing both services share (settings sections, database connection and
//!   migrations, request ids and the bearer token, JSON error mapping, health/docs endpoints,
//!   server assembly, socket options and graceful shutdown, Prometheus metrics, log set-up).

pub mod agent_wire;
pub mod db;
pub mod error;
pub mod governance_wire;
pub mod http;
pub mod idempotency;
pub mod json;
pub mod live_wire;
pub mod metrics;
pub mod multi_agent_wire;
pub mod multimodal_wire;
pub mod openapi;
pub mod operational;
pub mod operations_wire;
pub mod outcome_wire;
pub mod page;
pub mod profile_wire;
pub mod runtime_call;
pub mod runtime_client;
pub mod runtime_live;
pub mod runtime_stream;
pub mod security_guard;
pub mod server;
pub mod settings;
pub mod state_surface;
pub mod telemetry;
pub mod time_util;
pub mod traffic_cop;
pub mod trust_wire;
pub mod usage_wire;
pub mod wire;
pub mod wrapper_wire;
