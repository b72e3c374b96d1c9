//! Security guard: the pieces of the authentication protocol both planes must agree on.
//!
//! - [`scopes`]: roles (`owner/admin/member/viewer`) and the `resource:action` scopes they grant,
//!   with the `admin` super-scope and trailing-`*` wildcards.
//! - [`tokens`]: JWT access tokens signed with HS256 under a `kid` key ring (rotation: the active
//!   key signs, every listed key verifies), an algorithm allow-list, and `aud`/`iss`/`exp`/`nbf`
//!   checks. HS256 was chosen over EdDSA because verification sits on every authenticated
//!   request (~5 µs against ~85 µs); see `docs/adr/0003-tokens.md`.
//! - [`service`]: the short-lived service token the experience plane presents for runtime reads.
//!
//! The flows built from these (register, login, refresh, revoke) live in the experience plane's
//! domain, which owns the users and refresh tokens.

pub mod keys;
pub mod scopes;
pub mod service;
pub mod tokens;

pub use keys::{KeyRing, KeyRingError};
pub use scopes::{Role, ScopeSet};
pub use tokens::{AccessClaims, TokenError, TokenIssuer};
