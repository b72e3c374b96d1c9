//! Helpers of the profile and attestation tests (SPEC §9): the calls, and an outsider's
//! verification of an attestation — the published JWK, the documented signed bytes and `ring`,
//! sharing no code with the runtime that signed it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use platform_sdk::traffic_cop::canonical_json;
use reqwest::{Method, StatusCode};
use ring::signature::{UnparsedPublicKey, ED25519};
use serde_json::{json, Value};

use crate::{s, Stack};

/// The `fields[0].field` of an error body.
pub fn field(body: &Value) -> String {
    s(&body["error"]["fields"][0], "field")
}

/// Creates a profile; asserts `201`.
pub async fn create_profile(stack: &Stack, token: &str, body: Value) -> Value {
    let (status, profile) = stack
        .send(Method::POST, "/api/agents/profiles", token, Some(body))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{profile}");
    profile
}

/// `POST /api/agents/profiles/{profile_id}/attest`.
pub async fn attest(
    stack: &Stack,
    token: &str,
    profile_id: &str,
    body: Value,
) -> (StatusCode, Value) {
    let path = format!("/api/agents/profiles/{profile_id}/attest");
    stack.send(Method::POST, &path, token, Some(body)).await
}

/// An `AUDIT` attestation body with this `content`.
pub fn audit(content: Value) -> Value {
    json!({
        "attestation_type": "AUDIT",
        "attestation_data": {
            "content": content,
            "context": {"auditor": "acme", "round": 2},
            "evidence_references": ["https://evidence.example/report/1"]
        }
    })
}

/// `GET …/attestations/{id}/verify` of an attestation.
pub async fn verify(stack: &Stack, token: &str, att: &Value) -> (StatusCode, Value) {
    let path = format!(
        "/api/agents/profiles/{}/attestations/{}/verify",
        s(att, "profile_id"),
        s(att, "attestation_id")
    );
    stack.get(&path, token).await
}

/// `POST …/attestations/{id}/revoke` of an attestation.
pub async fn revoke(stack: &Stack, token: &str, att: &Value, body: Value) -> (StatusCode, Value) {
    let path = format!(
        "/api/agents/profiles/{}/attestations/{}/revoke",
        s(att, "profile_id"),
        s(att, "attestation_id")
    );
    stack.send(Method::POST, &path, token, Some(body)).await
}

/// The bytes the documentation says are signed: the canonical JSON of the attestation without
/// `signature` and `metadata`.
pub fn signed_bytes(att: &Value) -> Vec<u8> {
    let mut unsigned = att.clone();
    let map = unsigned.as_object_mut().unwrap();
    map.remove("signature");
    map.remove("metadata");
    canonical_json(&unsigned).into_bytes()
}

/// The public key with this `kid` from a JWK set, checked to be an Ed25519 signing key.
pub fn public_key(keys: &Value, kid: &str) -> Vec<u8> {
    let jwk = keys["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == kid)
        .unwrap_or_else(|| panic!("no key {kid} in {keys}"));
    assert_eq!(
        (&jwk["kty"], &jwk["crv"], &jwk["alg"], &jwk["use"]),
        (
            &json!("OKP"),
            &json!("Ed25519"),
            &json!("EdDSA"),
            &json!("sig")
        )
    );
    let x = URL_SAFE_NO_PAD.decode(s(jwk, "x")).unwrap();
    assert_eq!(x.len(), 32);
    x
}

/// Verifies `signature` over `bytes` with `ring` alone.
pub fn ring_verifies(public: &[u8], bytes: &[u8], signature: &[u8]) -> bool {
    UnparsedPublicKey::new(&ED25519, public)
        .verify(bytes, signature)
        .is_ok()
}

/// Verifies an attestation as an outsider would: the JWK from `GET /api/governance/keys`, the
/// documented bytes, `ring`.
pub async fn verifies_offline(stack: &Stack, token: &str, att: &Value) -> bool {
    let (status, keys) = stack.get("/api/governance/keys", token).await;
    assert_eq!(status, StatusCode::OK, "{keys}");
    assert_eq!(att["signature"]["algorithm"], "ED25519");
    let public = public_key(&keys, &s(&att["signature"], "key_id"));
    let signature = STANDARD.decode(s(&att["signature"], "value")).unwrap();
    ring_verifies(&public, &signed_bytes(att), &signature)
}

/// sha256:<hex> computed here with `ring`.
pub fn sha256(text: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, text.as_bytes());
    let hex: String = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// Parses an RFC 3339 instant.
pub fn rfc3339(text: &str) -> time::OffsetDateTime {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).unwrap()
}
