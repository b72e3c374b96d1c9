//! Agent profiles and signed attestations (SPEC §9, docs/adr/0017-attestation-keys.md).
//!
//! A profile says what an agent of the tenant is and may do; its defining fields are hashed into
//! a constitution hash, so an attestation — a user's signed statement about one profile version —
//! names exactly what it vouches for. Attestations are signed with the tenant's own Ed25519 key
//! (made on first use, rotatable, private half sealed at rest) and can be checked by anyone
//! holding the published public key, without asking us.
//!
//! - [`routes`]: the endpoints (signed intents for changes, service token for reads).
//! - [`service`]: [`Profiles`]: create, update (versions), read, list.
//! - [`attestations`]: [`Attestations`]: attest, revoke/suspend, verify, list; the key endpoints.
//! - [`keys`]: [`keys::AttestationKeys`] and the [`keys::Sealer`] that encrypts private keys.
//! - [`canonical`]: the exact bytes hashed and signed.
//! - [`input`]: reading and checking request bodies, naming the wrong field.
//! - [`storage`]: the SQL.

pub mod attestations;
pub mod canonical;
pub mod input;
pub mod keys;
pub mod routes;
pub mod service;
pub mod storage;

pub use attestations::Attestations;
pub use service::Profiles;
