//! The runtime's traffic cop, end to end: every defective intent (unsigned, tampered, expired,
//! misaddressed, wrong action, unknown key) is refused with `403 invalid_intent` and writes
//! nothing; a replayed valid contract returns the original answer and creates one session;
//! reads need a service token; an anonymous session upgrades in place.

use e2e_tests::{both_backends, s, Backend, Stack};
use platform_sdk::runtime_client::{actions, ANONYMOUS_TENANT};
use platform_sdk::security_guard::service::mint;
use platform_sdk::security_guard::KeyRing;
use platform_sdk::traffic_cop::{IntentRequest, IntentSigner, SignedIntent};
use reqwest::{Method, StatusCode};
use secrecy::SecretString;
use serde_json::{json, Value};

fn uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Ids of one would-be session.
struct Ids {
    tenant: String,
    user: String,
    session: String,
}

fn ids() -> Ids {
    Ids {
        tenant: uuid(),
        user: uuid(),
        session: uuid(),
    }
}

fn signer(stack: &Stack) -> IntentSigner {
    IntentSigner::new(stack.service_ring(), 30_000)
}

fn create_intent(signer: &IntentSigner, ids: &Ids) -> SignedIntent {
    signer.sign(IntentRequest {
        action: actions::CREATE_SESSION,
        tenant_id: &ids.tenant,
        user_id: Some(&ids.user),
        session_id: &ids.session,
        payload: json!({"metadata": {"source": "e2e"}}),
    })
}

async fn send(
    stack: &Stack,
    method: Method,
    path: &str,
    intent: &SignedIntent,
) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    let body = serde_json::to_value(intent).unwrap();
    stack.call(method, &stack.rt(path), None, Some(body)).await
}

/// Asserts a `403 invalid_intent` and that the session it named does not exist.
async fn assert_refused(
    stack: &Stack,
    what: &str,
    answer: (StatusCode, reqwest::header::HeaderMap, Value),
    ids: &Ids,
) {
    let (status, headers, body) = answer;
    assert_eq!(status, StatusCode::FORBIDDEN, "{what}: {body}");
    assert_eq!(body["error"]["code"], "invalid_intent", "{what}: {body}");
    assert!(
        !body["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .is_empty(),
        "{what}: a reason is given: {body}"
    );
    assert!(headers.get("x-intent-replayed").is_none(), "{what}");
    let (status, read) = stack.runtime_session(&ids.tenant, &ids.session).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "{what}: nothing may be written: {read}"
    );
    assert_eq!(read["error"]["code"], "not_found");
}

async fn defective_intents_are_refused_and_write_nothing(backend: Backend) {
    let stack = Stack::start(backend).await;
    let signer = signer(&stack);
    let path = "/api/session/create";

    // Unsigned: signature and kid removed.
    let target = ids();
    let mut unsigned = create_intent(&signer, &target);
    unsigned.signature = None;
    unsigned.kid = None;
    assert_refused(
        &stack,
        "unsigned",
        send(&stack, Method::POST, path, &unsigned).await,
        &target,
    )
    .await;
    // Signature present but no kid, and kid present but no signature.
    let mut no_kid = create_intent(&signer, &target);
    no_kid.kid = None;
    assert_refused(
        &stack,
        "no kid",
        send(&stack, Method::POST, path, &no_kid).await,
        &target,
    )
    .await;
    let mut no_sig = create_intent(&signer, &target);
    no_sig.signature = None;
    assert_refused(
        &stack,
        "no signature",
        send(&stack, Method::POST, path, &no_sig).await,
        &target,
    )
    .await;

    // Tampered: a field changed after signing (the tenant, then the user, then the payload).
    let target = ids();
    let original = create_intent(&signer, &target);
    let other_tenant = ids();
    let mut tampered = original.clone();
    tampered.contract.tenant_id = other_tenant.tenant.clone();
    assert_refused(
        &stack,
        "tampered tenant",
        send(&stack, Method::POST, path, &tampered).await,
        &target,
    )
    .await;
    let (status, _) = stack
        .runtime_session(&other_tenant.tenant, &target.session)
        .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "nothing written under the forged tenant either"
    );
    let mut tampered = original.clone();
    tampered.contract.user_id = Some(uuid());
    assert_refused(
        &stack,
        "tampered user",
        send(&stack, Method::POST, path, &tampered).await,
        &target,
    )
    .await;
    let mut tampered = original.clone();
    tampered.contract.payload = json!({"metadata": {"source": "attacker"}});
    assert_refused(
        &stack,
        "tampered payload",
        send(&stack, Method::POST, path, &tampered).await,
        &target,
    )
    .await;
    let mut tampered = original.clone();
    tampered.contract.expires_at += 1;
    assert_refused(
        &stack,
        "tampered expiry",
        send(&stack, Method::POST, path, &tampered).await,
        &target,
    )
    .await;
    // The refusals did not burn the contract id: the genuine contract still goes through, once.
    let (status, headers, created) = send(&stack, Method::POST, path, &original).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert!(
        headers.get("x-intent-replayed").is_none(),
        "the first acceptance is not a replay"
    );
    assert_eq!(created["session_id"], target.session.as_str());
    assert_eq!(created["metadata"]["source"], "e2e");

    // Expired: signed correctly, but its window closed five minutes ago.
    let target = ids();
    let mut contract = create_intent(&signer, &target).contract;
    let past = platform_sdk::time_util::now_ms() - 5 * 60_000;
    contract.issued_at = past;
    contract.expires_at = past + 30_000;
    let expired = signer.sign_contract(contract);
    assert_refused(
        &stack,
        "expired",
        send(&stack, Method::POST, path, &expired).await,
        &target,
    )
    .await;

    // A window longer than any contract may claim.
    let mut contract = create_intent(&signer, &target).contract;
    contract.expires_at = contract.issued_at + 3_600_000;
    let too_long = signer.sign_contract(contract);
    assert_refused(
        &stack,
        "window too long",
        send(&stack, Method::POST, path, &too_long).await,
        &target,
    )
    .await;

    // Wrong audience, wrong issuer.
    let mut contract = create_intent(&signer, &target).contract;
    contract.audience = "some-other-runtime".into();
    let misaddressed = signer.sign_contract(contract);
    assert_refused(
        &stack,
        "wrong audience",
        send(&stack, Method::POST, path, &misaddressed).await,
        &target,
    )
    .await;
    let mut contract = create_intent(&signer, &target).contract;
    contract.issuer = "mallory".into();
    let foreign = signer.sign_contract(contract);
    assert_refused(
        &stack,
        "wrong issuer",
        send(&stack, Method::POST, path, &foreign).await,
        &target,
    )
    .await;

    // Wrong action: an end_session contract posted to the create endpoint.
    let wrong_action = signer.sign(IntentRequest {
        action: actions::END_SESSION,
        tenant_id: &target.tenant,
        user_id: Some(&target.user),
        session_id: &target.session,
        payload: json!({"metadata": {}}),
    });
    let answer = send(&stack, Method::POST, path, &wrong_action).await;
    assert!(
        answer.2["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("end_session"),
        "{}",
        answer.2
    );
    assert_refused(&stack, "wrong action", answer, &target).await;
    // An upgrade contract on the anonymous endpoint is refused as well.
    let wrong_action = signer.sign(IntentRequest {
        action: actions::UPGRADE_SESSION,
        tenant_id: ANONYMOUS_TENANT,
        user_id: None,
        session_id: &target.session,
        payload: json!({}),
    });
    let answer = send(
        &stack,
        Method::POST,
        "/api/session/create-anonymous",
        &wrong_action,
    )
    .await;
    assert_eq!(answer.0, StatusCode::FORBIDDEN, "{}", answer.2);
    let (status, _) = stack
        .runtime_session(ANONYMOUS_TENANT, &target.session)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Signed with a key the runtime does not know (unknown kid), and with a wrong secret under
    // the right kid.
    let secret = SecretString::from(format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    ));
    let unknown_kid = IntentSigner::new(KeyRing::new("svc-9", &secret, None).unwrap(), 30_000);
    let intent = create_intent(&unknown_kid, &target);
    assert_refused(
        &stack,
        "unknown key",
        send(&stack, Method::POST, path, &intent).await,
        &target,
    )
    .await;
    let wrong_secret = IntentSigner::new(KeyRing::new("svc-1", &secret, None).unwrap(), 30_000);
    let intent = create_intent(&wrong_secret, &target);
    assert_refused(
        &stack,
        "wrong secret",
        send(&stack, Method::POST, path, &intent).await,
        &target,
    )
    .await;

    // A forged end_session does not end a live session.
    let live = ids();
    let (status, _, _) = send(&stack, Method::POST, path, &create_intent(&signer, &live)).await;
    assert_eq!(status, StatusCode::CREATED);
    let forged_end = wrong_secret.sign(IntentRequest {
        action: actions::END_SESSION,
        tenant_id: &live.tenant,
        user_id: Some(&live.user),
        session_id: &live.session,
        payload: json!({}),
    });
    let (status, _, body) = send(
        &stack,
        Method::DELETE,
        &format!("/api/session/{}", live.session),
        &forged_end,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error"]["code"], "invalid_intent");
    let (status, session) = stack.runtime_session(&live.tenant, &live.session).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        session["status"], "active",
        "a refused end_session leaves the session alive"
    );
}

async fn replayed_contract_returns_the_original_answer(backend: Backend) {
    let stack = Stack::start(backend).await;
    let target = ids();
    let intent = create_intent(&signer(&stack), &target);

    let (first_status, first_headers, first) =
        send(&stack, Method::POST, "/api/session/create", &intent).await;
    assert_eq!(first_status, StatusCode::CREATED, "{first}");
    assert!(first_headers.get("x-intent-replayed").is_none());
    let (second_status, second_headers, second) =
        send(&stack, Method::POST, "/api/session/create", &intent).await;
    assert_eq!(second_status, StatusCode::CREATED, "{second}");
    assert_eq!(second, first, "the replay answers with the original body");
    assert_eq!(
        second_headers
            .get("x-intent-replayed")
            .and_then(|v| v.to_str().ok()),
        Some("true")
    );

    // Exactly one session exists for the user.
    let (token, _) = mint(&stack.service_ring()).unwrap();
    let url = stack.rt(&format!(
        "/api/sessions?tenant_id={}&user_id={}",
        target.tenant, target.user
    ));
    let (status, _, list) = stack.call(Method::GET, &url, Some(&token), None).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let sessions = list["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 1, "{list}");
    assert_eq!(sessions[0]["session_id"], target.session.as_str());
    assert_eq!(sessions[0]["created_at"], first["created_at"]);

    // The same contract id with a different (validly signed) contract is not a replay.
    let mut reused = intent.contract.clone();
    reused.session_id = uuid();
    let reused_id = reused.session_id.clone();
    let reused = signer(&stack).sign_contract(reused);
    let (status, _, body) = send(&stack, Method::POST, "/api/session/create", &reused).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error"]["code"], "invalid_intent");
    let (status, _) = stack.runtime_session(&target.tenant, &reused_id).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn reads_need_a_service_token(backend: Backend) {
    let stack = Stack::start(backend).await;
    let target = ids();
    let (status, _, _) = send(
        &stack,
        Method::POST,
        "/api/session/create",
        &create_intent(&signer(&stack), &target),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let read = stack.rt(&format!(
        "/api/session/{}?tenant_id={}",
        target.session, target.tenant
    ));
    let list = stack.rt(&format!(
        "/api/sessions?tenant_id={}&user_id={}",
        target.tenant, target.user
    ));
    let validate = stack.rt(&format!("/api/session/{}/validate", target.session));

    // No token.
    let (status, _, body) = stack.call(Method::GET, &read, None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["error"]["code"], "unauthenticated");
    // A service-shaped JWT signed with a wrong key (same kid).
    let secret = SecretString::from(format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    ));
    let (forged, _) = mint(&KeyRing::new("svc-1", &secret, None).unwrap()).unwrap();
    let (status, _, body) = stack.call(Method::GET, &read, Some(&forged), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["error"]["code"], "unauthenticated");
    // A user's access token from the experience plane is not a service credential.
    let (_, _, login) = stack.register().await;
    let (status, _, body) = stack
        .call(Method::GET, &read, Some(&s(&login, "access_token")), None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    // Garbage.
    let (status, _, _) = stack
        .call(Method::GET, &read, Some("not-a-token"), None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Bad service tokens on the list and validate endpoints.
    for token in [None, Some(forged.as_str()), Some("garbage")] {
        let (status, _, body) = stack.call(Method::GET, &list, token, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
        assert_eq!(body["error"]["code"], "unauthenticated");
        let (status, _, body) = stack
            .call(
                Method::POST,
                &validate,
                token,
                Some(json!({"tenant_id": target.tenant, "user_id": target.user})),
            )
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    }

    // The real token reads (so the refusals above are about the credential).
    let (token, _) = mint(&stack.service_ring()).unwrap();
    let (status, _, body) = stack.call(Method::GET, &read, Some(&token), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["user_id"], target.user.as_str());
    let (status, _, body) = stack.call(Method::GET, &list, Some(&token), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["sessions"].as_array().unwrap().len(), 1);
}

async fn upgrade_keeps_the_id_and_attaches_the_user(backend: Backend) {
    let stack = Stack::start(backend).await;
    let signer = signer(&stack);
    let (_, _, user) = stack.register().await;
    let (tenant, user_id) = (s(&user, "tenant_id"), s(&user, "user_id"));
    let sid = uuid();

    let anonymous = signer.sign(IntentRequest {
        action: actions::CREATE_ANONYMOUS_SESSION,
        tenant_id: ANONYMOUS_TENANT,
        user_id: None,
        session_id: &sid,
        payload: json!({"metadata": {}}),
    });
    let (status, _, created) = send(
        &stack,
        Method::POST,
        "/api/session/create-anonymous",
        &anonymous,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["tenant_id"], ANONYMOUS_TENANT);
    assert_eq!(created["user_id"], Value::Null);

    let upgrade = signer.sign(IntentRequest {
        action: actions::UPGRADE_SESSION,
        tenant_id: &tenant,
        user_id: Some(&user_id),
        session_id: &sid,
        payload: json!({"user_id": user_id}),
    });
    let (status, _, upgraded) = send(
        &stack,
        Method::PATCH,
        &format!("/api/session/{sid}/upgrade"),
        &upgrade,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{upgraded}");
    assert_eq!(upgraded["session_id"], sid.as_str());
    assert_eq!(upgraded["tenant_id"], tenant.as_str());
    assert_eq!(upgraded["user_id"], user_id.as_str());
    assert_eq!(
        upgraded["created_at"], created["created_at"],
        "the same session, not a new one"
    );

    let (status, read) = stack.runtime_session(&tenant, &sid).await;
    assert_eq!(status, StatusCode::OK, "{read}");
    assert_eq!(read["user_id"], user_id.as_str());
    assert_eq!(read["status"], "active");
    let (status, _) = stack.runtime_session(ANONYMOUS_TENANT, &sid).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "no longer an anonymous session"
    );

    // The upgraded session is listed among the user's sessions.
    let (token, _) = mint(&stack.service_ring()).unwrap();
    let url = stack.rt(&format!(
        "/api/sessions?tenant_id={tenant}&user_id={user_id}"
    ));
    let (status, _, list) = stack.call(Method::GET, &url, Some(&token), None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        list["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["session_id"] == sid.as_str()),
        "{list}"
    );

    // A tampered upgrade (someone else's user) is refused and changes nothing.
    let sid2 = uuid();
    let anonymous = signer.sign(IntentRequest {
        action: actions::CREATE_ANONYMOUS_SESSION,
        tenant_id: ANONYMOUS_TENANT,
        user_id: None,
        session_id: &sid2,
        payload: json!({}),
    });
    let (status, _, _) = send(
        &stack,
        Method::POST,
        "/api/session/create-anonymous",
        &anonymous,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let mut hijack = signer.sign(IntentRequest {
        action: actions::UPGRADE_SESSION,
        tenant_id: &tenant,
        user_id: Some(&user_id),
        session_id: &sid2,
        payload: json!({"user_id": user_id}),
    });
    let intruder = uuid();
    hijack.contract.user_id = Some(intruder.clone());
    hijack.contract.payload = json!({"user_id": intruder});
    let (status, _, body) = send(
        &stack,
        Method::PATCH,
        &format!("/api/session/{sid2}/upgrade"),
        &hijack,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error"]["code"], "invalid_intent");
    let (status, still) = stack.runtime_session(ANONYMOUS_TENANT, &sid2).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(still["user_id"], Value::Null);
    let (status, _) = stack.runtime_session(&tenant, &sid2).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

both_backends!(
    defective_intents_are_refused_and_write_nothing,
    replayed_contract_returns_the_original_answer,
    reads_need_a_service_token,
    upgrade_keeps_the_id_and_attaches_the_user,
);
