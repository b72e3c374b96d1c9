//! Signed attestations (SPEC §9, docs/adr/0017), on both backends, through the experience
//! plane: an attestation's Ed25519 signature verifies *offline* — with `ring`, the published JWK
//! and the documented bytes, not with our own code — and stops verifying when one byte changes;
//! revocation, suspension, parent chains and key rotation behave as documented; the private key
//! is sealed at rest and survives a service-secret rotation; a member cannot attest; other
//! tenants see nothing; bad input names its field.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use e2e_tests::attest::{
    attest, audit, create_profile, field, public_key, revoke, rfc3339, ring_verifies, signed_bytes,
    verifies_offline, verify,
};
use e2e_tests::{both_backends, s, with_env, Backend, Service, Stack};
use reqwest::{Method, StatusCode};
use ring::signature::{Ed25519KeyPair, KeyPair as _};
use serde_json::{json, Value};

async fn attestations_verify_offline_and_follow_their_state_machine(backend: Backend) {
    let stack = Stack::start(backend).await;
    let (_, _, owner) = stack.register().await;
    let token = s(&owner, "access_token");
    let profile = create_profile(
        &stack,
        &token,
        json!({"agent_id": "guide", "name": "Guide", "capabilities": ["route"]}),
    )
    .await;
    let profile_id = s(&profile, "id");

    let (status, att) = attest(
        &stack,
        &token,
        &profile_id,
        audit(json!({"score": 0.93, "passed": true})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{att}");
    assert!(s(&att, "attestation_id").starts_with("att_"));
    assert_eq!(att["issuer_id"], owner["user"]["id"]);
    assert_eq!(att["subject_id"], "guide");
    assert_eq!(
        att["claim_id"],
        profile["governance_identity"]["constitution_hash"]
    );
    assert_eq!(att["parent_attestation_id"], Value::Null);
    assert_eq!(att["metadata"]["revocation_status"], "ACTIVE");
    assert_eq!(
        att["signature"]["key_id"],
        profile["governance_identity"]["key_id"]
    );
    let lifetime = rfc3339(&s(&att, "expiration")) - rfc3339(&s(&att, "timestamp"));
    assert_eq!(lifetime, time::Duration::days(365));

    // Offline: ring, the published JWK and the documented bytes.
    assert!(verifies_offline(&stack, &token, &att).await, "{att}");
    let (_, keys) = stack.get("/api/governance/keys", &token).await;
    let public = public_key(&keys, &s(&att["signature"], "key_id"));
    let signature = STANDARD.decode(s(&att["signature"], "value")).unwrap();
    let bytes = signed_bytes(&att);
    for i in [0, bytes.len() / 2, bytes.len() - 1] {
        let mut flipped = bytes.clone();
        flipped[i] ^= 0x01;
        assert!(
            !ring_verifies(&public, &flipped, &signature),
            "byte {i} of the content"
        );
    }
    for i in [0, 31, 63] {
        let mut flipped = signature.clone();
        flipped[i] ^= 0x01;
        assert!(
            !ring_verifies(&public, &bytes, &flipped),
            "byte {i} of the signature"
        );
    }
    let mut forged = att.clone();
    forged["subject_id"] = json!("liaison.content");
    assert!(!verifies_offline(&stack, &token, &forged).await);

    let (status, verdict) = verify(&stack, &token, &att).await;
    assert_eq!(status, StatusCode::OK, "{verdict}");
    assert_eq!(
        verdict,
        json!({"valid": true, "checks": {"signature": true, "not_expired": true, "not_revoked": true, "chain": true}})
    );

    // A child under it; the same Idempotency-Key answers the same attestation.
    let mut child_body = audit(json!({"delegated": "review"}));
    child_body["attestation_type"] = json!("DELEGATION");
    child_body["parent_attestation_id"] = att["attestation_id"].clone();
    child_body["expiration"] = json!("2099-01-01T00:00:00+02:00");
    let keyed = |body: Value| {
        stack
            .http
            .post(stack.exp(&format!("/api/agents/profiles/{profile_id}/attest")))
            .bearer_auth(&token)
            .header("Idempotency-Key", "child-1")
            .json(&body)
            .send()
    };
    let child: Value = keyed(child_body.clone())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let repeat: Value = keyed(child_body).await.unwrap().json().await.unwrap();
    assert_eq!(repeat["attestation_id"], child["attestation_id"], "{child}");
    assert_eq!(child["expiration"], "2098-12-31T22:00:00Z");
    assert!(verifies_offline(&stack, &token, &child).await, "{child}");
    assert_eq!(verify(&stack, &token, &child).await.1["valid"], true);

    // Revoking the parent: it is no longer valid, and neither is the chain of the child.
    let (status, revoked) =
        revoke(&stack, &token, &att, json!({"reason": "auditor withdrew"})).await;
    assert_eq!(status, StatusCode::OK, "{revoked}");
    assert_eq!(revoked["metadata"]["revocation_status"], "REVOKED");
    assert_eq!(revoked["metadata"]["revocation_reason"], "auditor withdrew");
    assert!(
        verifies_offline(&stack, &token, &revoked).await,
        "metadata is not signed"
    );
    let (_, verdict) = verify(&stack, &token, &att).await;
    assert_eq!(verdict["valid"], false);
    assert_eq!(verdict["checks"]["not_revoked"], false);
    assert_eq!(verdict["checks"]["signature"], true);
    let (_, verdict) = verify(&stack, &token, &child).await;
    assert_eq!(
        (&verdict["valid"], &verdict["checks"]["chain"]),
        (&json!(false), &json!(false))
    );
    let (status, body) = revoke(&stack, &token, &att, json!({"reason": "again"})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"]["code"], "invalid_transition");
    let mut under = audit(json!({}));
    under["parent_attestation_id"] = att["attestation_id"].clone();
    let (status, body) = attest(&stack, &token, &profile_id, under).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"]["code"], "invalid_transition");

    // Suspended → suspended again is refused, → revoked is allowed.
    let (_, other) = attest(&stack, &token, &profile_id, audit(json!({"n": 3}))).await;
    let suspend = json!({"reason": "under review", "status": "SUSPENDED"});
    let (status, suspended) = revoke(&stack, &token, &other, suspend.clone()).await;
    assert_eq!(status, StatusCode::OK, "{suspended}");
    assert_eq!(suspended["metadata"]["revocation_status"], "SUSPENDED");
    let mut under = audit(json!({}));
    under["parent_attestation_id"] = other["attestation_id"].clone();
    assert_eq!(
        attest(&stack, &token, &profile_id, under).await.0,
        StatusCode::CONFLICT
    );
    assert_eq!(
        revoke(&stack, &token, &other, suspend).await.0,
        StatusCode::CONFLICT
    );
    let (status, body) = revoke(&stack, &token, &other, json!({"reason": "confirmed"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // Lists and their filters.
    let list = |query: &'static str| {
        let path = format!("/api/agents/profiles/{profile_id}/attestations{query}");
        let stack = &stack;
        let token = &token;
        async move { stack.get(&path, token).await }
    };
    let (status, all) = list("").await;
    assert_eq!(status, StatusCode::OK, "{all}");
    assert_eq!(all["items"].as_array().unwrap().len(), 3);
    assert_eq!(
        all["items"][2]["attestation_id"], att["attestation_id"],
        "newest first"
    );
    let (_, revoked_list) = list("?status=REVOKED").await;
    assert_eq!(revoked_list["items"].as_array().unwrap().len(), 2);
    let (_, delegations) = list("?type=DELEGATION&status=ACTIVE").await;
    assert_eq!(
        delegations["items"][0]["attestation_id"],
        child["attestation_id"]
    );
    let (_, page) = list("?limit=2").await;
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    assert!(page["next_cursor"].is_string());
    let (status, body) = list("?type=GOSSIP").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    // Rotation: a new active key signs new attestations; the old key still verifies old ones.
    let (_, kept) = attest(
        &stack,
        &token,
        &profile_id,
        audit(json!({"before": "rotation"})),
    )
    .await;
    let old_kid = s(&kept["signature"], "key_id");
    let (status, new_key) = stack
        .send(
            Method::POST,
            "/api/governance/keys/rotate",
            &token,
            Some(json!({})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{new_key}");
    assert_ne!(new_key["kid"], json!(old_kid));
    let (_, keys) = stack.get("/api/governance/keys", &token).await;
    let statuses: Vec<(String, String)> = keys["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| (s(k, "kid"), s(k, "status")))
        .collect();
    assert_eq!(
        statuses,
        vec![
            (s(&new_key, "kid"), "active".into()),
            (old_kid.clone(), "retired".into())
        ]
    );
    assert_eq!(verify(&stack, &token, &kept).await.1["valid"], true);
    assert!(verifies_offline(&stack, &token, &kept).await);
    let (_, fresh) = attest(
        &stack,
        &token,
        &profile_id,
        audit(json!({"after": "rotation"})),
    )
    .await;
    assert_eq!(fresh["signature"]["key_id"], new_key["kid"]);
    assert!(verifies_offline(&stack, &token, &fresh).await);
    assert_eq!(verify(&stack, &token, &fresh).await.1["valid"], true);
}

async fn private_keys_are_sealed_at_rest(backend: Backend) {
    let mut stack = Stack::start(backend).await;
    let (_, _, owner) = stack.register().await;
    let token = s(&owner, "access_token");
    let profile = create_profile(
        &stack,
        &token,
        json!({"agent_id": "guide", "name": "Guide", "capabilities": []}),
    )
    .await;
    let (_, keys) = stack.get("/api/governance/keys", &token).await;
    let kid = s(&keys["keys"][0], "kid");
    let public = public_key(&keys, &kid);

    let (pool, prefix) = stack.runtime_db().await;
    let (stored_public, sealed): (String, String) = sqlx::query_as(&format!(
        "SELECT public_key, sealed_seed FROM {prefix}attestation_keys WHERE kid = $1"
    ))
    .bind(&kid)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(URL_SAFE_NO_PAD.decode(stored_public).unwrap(), public);
    // What is stored is nonce (12) + ciphertext (32) + tag (16), base64.
    let raw = STANDARD.decode(&sealed).unwrap();
    assert_eq!(raw.len(), 12 + 32 + 16, "{sealed}");
    // No 32 bytes of the column — decoded or as stored — are the seed of the published key:
    // each window, taken as an Ed25519 seed, yields another public key.
    for bytes in [raw.as_slice(), sealed.as_bytes()] {
        for window in bytes.windows(32) {
            let pair = Ed25519KeyPair::from_seed_unchecked(window).unwrap();
            assert_ne!(
                pair.public_key().as_ref(),
                public.as_slice(),
                "the seed is stored in the clear"
            );
        }
    }
    // Every mutation went through the audited intent gate.
    let actions: Vec<String> = sqlx::query_scalar(&format!(
        "SELECT action FROM {prefix}intent_audit WHERE tenant_id = $1"
    ))
    .bind(s(&owner, "tenant_id"))
    .fetch_all(&pool)
    .await
    .unwrap();
    assert!(
        actions.contains(&"create_agent_profile".to_owned()),
        "{actions:?}"
    );

    // /verify recomputes from the stored row: a row whose expiry was pushed into the past
    // behind our back is expired *and* no longer matches its signature.
    let (status, att) = attest(&stack, &token, &s(&profile, "id"), audit(json!({"n": 1}))).await;
    assert_eq!(status, StatusCode::CREATED, "{att}");
    assert_eq!(verify(&stack, &token, &att).await.1["valid"], true);
    sqlx::query(&format!(
        "UPDATE {prefix}attestations SET expires_at = 1000 WHERE id = $1"
    ))
    .bind(s(&att, "attestation_id"))
    .execute(&pool)
    .await
    .unwrap();
    let (_, verdict) = verify(&stack, &token, &att).await;
    assert_eq!(
        verdict,
        json!({"valid": false, "checks": {"signature": false, "not_expired": false, "not_revoked": true, "chain": true}})
    );
    let mut under = audit(json!({}));
    under["parent_attestation_id"] = att["attestation_id"].clone();
    let (status, body) = attest(&stack, &token, &s(&profile, "id"), under).await;
    assert_eq!(status, StatusCode::CONFLICT, "an expired parent: {body}");
    pool.close().await;

    // A runtime restarted with a rotated service secret (the old one listed as previous) still
    // opens the sealed key and signs with it.
    let runtime = stack.runtime.as_mut().unwrap();
    let port = runtime.addr.port().to_string();
    runtime.kill().await;
    let new_secret = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let previous = format!("svc-1:{}", stack.service_secret);
    let mut env = stack.runtime_env();
    for (key, value) in [
        ("APP__SERVER__PORT", port.as_str()),
        ("APP__SECURITY__SERVICE_SECRET", new_secret.as_str()),
        ("APP__SECURITY__SERVICE_KID", "svc-2"),
        ("APP__SECURITY__PREVIOUS_SERVICE_KEYS", previous.as_str()),
    ] {
        env = with_env(&env, key, value);
    }
    stack.runtime = Some(Service::start("runtime-service", env).await);
    let (status, att) = attest(
        &stack,
        &token,
        &s(&profile, "id"),
        audit(json!({"after": "restart"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{att}");
    assert_eq!(att["signature"]["key_id"], json!(kid));
    assert!(verifies_offline(&stack, &token, &att).await);
}

async fn register_member(stack: &Stack, owner_token: &str) -> Value {
    let email = format!("member-{}@example.com", uuid::Uuid::new_v4().simple());
    let (status, invitation) = stack
        .send(
            Method::POST,
            "/api/tenants/current/members",
            owner_token,
            Some(json!({"email": email, "role": "member"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{invitation}");
    let (status, member) = stack
        .post(
            "/api/auth/register",
            json!({"email": email, "password": format!("pw-{}", uuid::Uuid::new_v4().simple()),
                   "invitation_token": s(&invitation, "token")}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{member}");
    member
}

async fn scopes_tenants_and_bad_input(backend: Backend) {
    let stack = Stack::start(backend).await;
    let (_, _, owner) = stack.register().await;
    let token = s(&owner, "access_token");
    let profile = create_profile(
        &stack,
        &token,
        json!({"agent_id": "guide", "name": "Guide", "capabilities": []}),
    )
    .await;
    let profile_id = s(&profile, "id");
    let (_, att) = attest(&stack, &token, &profile_id, audit(json!({"ok": true}))).await;

    // A member writes profiles and reads governance, but cannot attest, revoke or rotate.
    let member = register_member(&stack, &token).await;
    let member_token = s(&member, "access_token");
    create_profile(
        &stack,
        &member_token,
        json!({"agent_id": "liaison.content", "name": "Content", "capabilities": []}),
    )
    .await;
    let (status, _) = stack.get("/api/governance/keys", &member_token).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(verify(&stack, &member_token, &att).await.1["valid"], true);
    for (status, body) in [
        attest(&stack, &member_token, &profile_id, audit(json!({}))).await,
        revoke(&stack, &member_token, &att, json!({"reason": "no"})).await,
        stack
            .send(
                Method::POST,
                "/api/governance/keys/rotate",
                &member_token,
                Some(json!({})),
            )
            .await,
    ] {
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        assert_eq!(body["error"]["code"], "missing_scope");
    }

    // Another tenant: everything of ours is 404, and it has no keys of ours.
    let (_, _, stranger) = stack.register().await;
    let other = s(&stranger, "access_token");
    let att_id = s(&att, "attestation_id");
    let base = format!("/api/agents/profiles/{profile_id}");
    for (method, path, body) in [
        (Method::GET, base.clone(), None),
        (
            Method::PUT,
            base.clone(),
            Some(json!({"name": "mine", "capabilities": []})),
        ),
        (
            Method::POST,
            format!("{base}/attest"),
            Some(audit(json!({}))),
        ),
        (Method::GET, format!("{base}/attestations"), None),
        (
            Method::GET,
            format!("{base}/attestations/{att_id}/verify"),
            None,
        ),
        (
            Method::POST,
            format!("{base}/attestations/{att_id}/revoke"),
            Some(json!({"reason": "mine"})),
        ),
    ] {
        let (status, answer) = stack.send(method.clone(), &path, &other, body).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}: {answer}");
    }
    let (_, keys) = stack.get("/api/governance/keys", &other).await;
    assert_eq!(keys, json!({"keys": []}));
    let (_, list) = stack.get("/api/agents/profiles", &other).await;
    assert_eq!(list["items"], json!([]));
    // Their own profile cannot take our attestation as a parent.
    let theirs = create_profile(
        &stack,
        &other,
        json!({"agent_id": "guide", "name": "G", "capabilities": []}),
    )
    .await;
    let mut under = audit(json!({}));
    under["parent_attestation_id"] = json!(att_id);
    let (status, body) = attest(&stack, &other, &s(&theirs, "id"), under).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(field(&body), "parent_attestation_id");
    // Nor does the attestation answer under another of our own profiles.
    let second = create_profile(
        &stack,
        &token,
        json!({"agent_id": "guide", "name": "G2", "capabilities": []}),
    )
    .await;
    let (status, _) = stack
        .get(
            &format!(
                "/api/agents/profiles/{}/attestations/{att_id}/verify",
                s(&second, "id")
            ),
            &token,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Bad input names the field.
    let good = json!({"agent_id": "guide", "name": "Guide", "capabilities": ["a"]});
    let with = |key: &str, value: Value| {
        let mut body = good.clone();
        body[key] = value;
        body
    };
    for (body, expected) in [
        (with("agent_id", json!("nobody")), "agent_id"),
        (
            with("agent_id", json!("wrp_00000000000000000000000000000000")),
            "agent_id",
        ),
        (with("agent_id", json!("liaison.finance")), "agent_id"),
        (with("name", json!("")), "name"),
        (with("name", json!("n".repeat(101))), "name"),
        (with("description", json!("d".repeat(2001))), "description"),
        (with("capabilities", json!([""])), "capabilities"),
        (
            with("capabilities", json!(["c".repeat(65)])),
            "capabilities",
        ),
        (
            with(
                "capabilities",
                json!((0..51).map(|i| i.to_string()).collect::<Vec<_>>()),
            ),
            "capabilities",
        ),
        (with("capabilities", json!("one")), "capabilities"),
        (with("compliance_level", json!("lax")), "compliance_level"),
        (json!({"name": "x", "capabilities": []}), "agent_id"),
    ] {
        let (status, answer) = stack
            .send(
                Method::POST,
                "/api/agents/profiles",
                &token,
                Some(body.clone()),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {answer}");
        assert_eq!(field(&answer), expected, "{body}: {answer}");
    }
    let mut unknown_parent = audit(json!({}));
    unknown_parent["parent_attestation_id"] = json!("att_nope");
    let mut bad_type = audit(json!({}));
    bad_type["attestation_type"] = json!("GOSSIP");
    let mut past = audit(json!({}));
    past["expiration"] = json!("2020-01-01T00:00:00Z");
    let mut not_a_date = audit(json!({}));
    not_a_date["expiration"] = json!("next year");
    let mut no_content = audit(json!({}));
    no_content["attestation_data"] = json!({"context": {}});
    let mut bad_evidence = audit(json!({}));
    bad_evidence["attestation_data"]["evidence_references"] = json!([""]);
    for (body, expected) in [
        (audit(json!("text")), "attestation_data.content"),
        (no_content, "attestation_data.content"),
        (bad_evidence, "attestation_data.evidence_references"),
        (bad_type, "attestation_type"),
        (past, "expiration"),
        (not_a_date, "expiration"),
        (unknown_parent, "parent_attestation_id"),
    ] {
        let (status, answer) = attest(&stack, &token, &profile_id, body.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {answer}");
        assert_eq!(field(&answer), expected, "{body}: {answer}");
    }
    for (body, expected) in [
        (json!({"reason": ""}), "reason"),
        (json!({}), "reason"),
        (json!({"reason": "x", "status": "ACTIVE"}), "status"),
        (json!({"reason": "x", "status": "GONE"}), "status"),
    ] {
        let (status, answer) = revoke(&stack, &token, &att, body.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {answer}");
        assert_eq!(field(&answer), expected, "{body}: {answer}");
    }
    // Nothing of the refused requests was written.
    let (_, list) = stack
        .get(
            &format!("/api/agents/profiles/{profile_id}/attestations"),
            &token,
        )
        .await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list["items"][0]["metadata"]["revocation_status"], "ACTIVE");
}

both_backends!(
    attestations_verify_offline_and_follow_their_state_machine,
    private_keys_are_sealed_at_rest,
    scopes_tenants_and_bad_input,
);
