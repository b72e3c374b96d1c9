//! The experience gateway to the runtime (SPEC §7): every REST resource the runtime owns is
//! exposed here as one row of a declarative table, served by one forwarding path.
//!
//! - [`table`]: the rows, `(method, path pattern, scope, runtime target)` plus their OpenAPI
//!   summary and response schema. Conversation history (SPEC §4) is the first resource on it.
//! - [`Gateway`] (`service`): builds the runtime call of a row: a signed intent for mutations
//!   (the row's action, the JSON body as payload) or the service token for reads; tenant, user
//!   and session from the caller's verified token (never from the client), path segments
//!   percent-encoded, query parameters forwarded, the request id forwarded; runtime errors
//!   mapped once (`ApiError::forwarded`).
//! - [`routes`]: mounts every row; the one handler checks the row's scope and calls the service.
//! - [`openapi`]: adds every row to `/openapi.json`.
//!
//! A new runtime-owned endpoint is one row in a group of [`rows`] (plus its response schema in
//! `crate::openapi` when it is new) and its runtime handler.

pub mod openapi;
pub mod routes;
pub mod rows;
mod service;
pub mod table;
#[cfg(test)]
mod tests;

pub use service::{Forward, Gateway};
