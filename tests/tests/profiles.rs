//! Agent profiles (SPEC §9, docs/adr/0017), on both backends, through the experience plane:
//! a profile carries the documented constitution hash, a change is a new version with a new hash,
//! lists page newest first; a tenant's attestation key is made once however many first uses
//! race, and racing rotations and revocations leave one active key and one winner.

use e2e_tests::attest::{attest, audit, create_profile, field, revoke, sha256};
use e2e_tests::{both_backends, s, Backend, Stack};
use platform_sdk::traffic_cop::canonical_json;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

async fn profiles_are_created_read_updated_and_listed(backend: Backend) {
    let stack = Stack::start(backend).await;
    let (_, _, owner) = stack.register().await;
    let token = s(&owner, "access_token");

    let profile = create_profile(
        &stack,
        &token,
        json!({"agent_id": "guide", "name": "Guide", "description": "Front door",
               "capabilities": ["route", "explain"], "governance_framework": "iso-42001"}),
    )
    .await;
    let id = s(&profile, "id");
    assert!(id.starts_with("prof_"), "{profile}");
    assert_eq!(profile["agent_id"], "guide");
    assert_eq!(profile["capabilities"], json!(["route", "explain"]));
    assert_eq!(profile["version"], 1);
    assert!(s(&profile, "created_at").ends_with('Z'));
    let identity = &profile["governance_identity"];
    assert_eq!(identity["compliance_level"], "standard");
    assert!(s(identity, "key_id").starts_with("atk_"));
    // The hash is the documented one: sha256 over the canonical defining fields.
    let expected = sha256(&canonical_json(&json!({
        "agent_id": "guide", "name": "Guide", "description": "Front door",
        "capabilities": ["route", "explain"], "governance_framework": "iso-42001",
        "compliance_level": "standard"
    })));
    assert_eq!(identity["constitution_hash"], json!(expected));

    let (status, read) = stack
        .get(&format!("/api/agents/profiles/{id}"), &token)
        .await;
    assert_eq!(status, StatusCode::OK, "{read}");
    assert_eq!(read, profile);

    let path = format!("/api/agents/profiles/{id}");
    let changed = json!({"name": "Guide", "description": "Front door",
                         "capabilities": ["route", "explain", "summarise"],
                         "governance_framework": "iso-42001", "compliance_level": "strict"});
    let (status, v2) = stack
        .send(Method::PUT, &path, &token, Some(changed.clone()))
        .await;
    assert_eq!(status, StatusCode::OK, "{v2}");
    assert_eq!(v2["version"], 2);
    assert_eq!(v2["governance_identity"]["compliance_level"], "strict");
    assert_ne!(
        v2["governance_identity"]["constitution_hash"],
        identity["constitution_hash"]
    );
    assert_eq!(v2["created_at"], profile["created_at"]);
    // The same body again changes nothing.
    let (status, again) = stack.send(Method::PUT, &path, &token, Some(changed)).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again, v2);
    // The agent of a profile cannot change.
    let (status, body) = stack
        .send(
            Method::PUT,
            &path,
            &token,
            Some(json!({"agent_id": "liaison.content", "name": "x", "capabilities": []})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(field(&body), "agent_id");

    let mut ids = vec![id];
    for agent in ["liaison.content", "guide", "liaison.operations"] {
        let p = create_profile(
            &stack,
            &token,
            json!({"agent_id": agent, "name": format!("{agent} profile"), "capabilities": []}),
        )
        .await;
        ids.push(s(&p, "id"));
    }
    ids.reverse(); // newest first
    let (status, first) = stack.get("/api/agents/profiles?limit=3", &token).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let cursor = s(&first, "next_cursor");
    let (status, second) = stack
        .get(
            &format!("/api/agents/profiles?limit=3&cursor={cursor}"),
            &token,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{second}");
    assert_eq!(second["next_cursor"], Value::Null);
    let listed: Vec<String> = first["items"]
        .as_array()
        .unwrap()
        .iter()
        .chain(second["items"].as_array().unwrap())
        .map(|p| s(p, "id"))
        .collect();
    assert_eq!(listed, ids);
    let (_, guides) = stack
        .get("/api/agents/profiles?agent_id=guide", &token)
        .await;
    assert_eq!(guides["items"].as_array().unwrap().len(), 2, "{guides}");

    // The tenant's key was made on first use, once.
    let (_, keys) = stack.get("/api/governance/keys", &token).await;
    assert_eq!(keys["keys"].as_array().unwrap().len(), 1, "{keys}");
    assert_eq!(keys["keys"][0]["status"], "active");
    assert_eq!(keys["keys"][0]["kid"], identity["key_id"]);
}

async fn a_tenant_gets_one_key_however_many_first_uses_race(backend: Backend) {
    let stack = Stack::start(backend).await;
    let (_, _, owner) = stack.register().await;
    let token = s(&owner, "access_token");
    let creations = (0..6).map(|i| {
        create_profile(
            &stack,
            &token,
            json!({"agent_id": "guide", "name": format!("Guide {i}"), "capabilities": []}),
        )
    });
    let profiles = futures_util::future::join_all(creations).await;
    let (_, keys) = stack.get("/api/governance/keys", &token).await;
    assert_eq!(keys["keys"].as_array().unwrap().len(), 1, "{keys}");
    for p in &profiles {
        assert_eq!(p["governance_identity"]["key_id"], keys["keys"][0]["kid"]);
    }

    // Rotations at once: each makes a key or is refused with 409; one key stays active.
    let rotations = (0..4).map(|_| {
        stack.send(
            Method::POST,
            "/api/governance/keys/rotate",
            &token,
            Some(json!({})),
        )
    });
    let answers = futures_util::future::join_all(rotations).await;
    let made = answers
        .iter()
        .filter(|(status, _)| *status == StatusCode::CREATED)
        .count();
    for (status, body) in &answers {
        assert!(
            *status == StatusCode::CREATED || *status == StatusCode::CONFLICT,
            "{status} {body}"
        );
    }
    assert!(made >= 1);
    let (_, keys) = stack.get("/api/governance/keys", &token).await;
    let keys = keys["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1 + made);
    assert_eq!(keys.iter().filter(|k| k["status"] == "active").count(), 1);
    assert_eq!(keys[0]["status"], "active", "the active key comes first");

    // Revocations at once: exactly one wins, the others see it revoked.
    let (_, att) = attest(&stack, &token, &s(&profiles[0], "id"), audit(json!({}))).await;
    let revocations =
        (0..4).map(|i| revoke(&stack, &token, &att, json!({"reason": format!("r{i}")})));
    let answers = futures_util::future::join_all(revocations).await;
    let won: Vec<_> = answers
        .iter()
        .filter(|(status, _)| *status == StatusCode::OK)
        .collect();
    assert_eq!(won.len(), 1, "{answers:?}");
    for (status, body) in answers
        .iter()
        .filter(|(status, _)| *status != StatusCode::OK)
    {
        assert_eq!(*status, StatusCode::CONFLICT, "{body}");
        assert_eq!(body["error"]["code"], "invalid_transition");
    }
}

both_backends!(
    profiles_are_created_read_updated_and_listed,
    a_tenant_gets_one_key_however_many_first_uses_race,
);
