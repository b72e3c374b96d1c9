//! Profiles, attestations and attestation keys in SQL: the only SQL of the feature. Every query
//! is scoped by tenant, so another tenant's id reads as absent. JSON is TEXT, instants epoch ms
//! (portable SQL, PostgreSQL and SQLite).

mod attestations;
mod keys;
mod profiles;

pub use attestations::{
    attestation_by_id, attestations, insert_attestation, set_revocation, AttestationFilter,
    StoredAttestation,
};
pub use keys::{active_key, insert_key, key, keys, retire_active_key, KeyRow};
pub use profiles::{insert_profile, profile_by_id, profiles, update_profile, ProfileFields};

fn decode(what: &str) -> sqlx::Error {
    sqlx::Error::Decode(format!("stored {what} does not parse").into())
}

fn json<T: serde::de::DeserializeOwned>(text: &str, what: &str) -> Result<T, sqlx::Error> {
    serde_json::from_str(text).map_err(|_| decode(what))
}
