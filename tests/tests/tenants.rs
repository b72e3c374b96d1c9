//! Tenants with several members, invitations and API keys (SPEC §5, ADR 0010), on both backends:
//! roles bite (a viewer reads but cannot write), role changes and removals reach live tokens on
//! every replica within a second, invitations are single-use, unexpired and bound to an email,
//! API keys act with exactly their scopes and die within a second of revocation, other tenants'
//! members are invisible, and the last owner stays.

use std::time::Duration;

use e2e_tests::{both_backends, s, Backend, Options, Stack};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// Sends `method path` with a bearer token (or key) and an optional JSON body to `base`.
async fn send(
    stack: &Stack,
    base: &str,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let (status, _, body) = stack
        .call(method, &format!("{base}{path}"), Some(token), body)
        .await;
    (status, body)
}

/// Polls `check` until it returns true or one second (plus a little slack for a loaded test
/// machine's scheduler) has passed; returns how long it took.
async fn within_a_second<F, Fut>(what: &str, mut check: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = std::time::Instant::now();
    loop {
        if check().await {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < Duration::from_millis(1_500),
            "{what}: not within a second"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

fn password() -> String {
    format!("pw-{}", uuid::Uuid::new_v4().simple())
}

fn email() -> String {
    format!("user-{}@example.com", uuid::Uuid::new_v4().simple())
}

/// Invites `email` as `role` into the tenant of `owner_token`; returns the invitation token.
async fn invite(stack: &Stack, owner_token: &str, email: &str, role: &str) -> Value {
    let (status, body) = send(
        stack,
        &stack.exp(""),
        Method::POST,
        "/api/tenants/current/members",
        owner_token,
        Some(json!({"email": email, "role": role})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "invite: {body}");
    assert!(body["invitation_id"].as_str().unwrap().starts_with("inv_"));
    body
}

async fn register_invited(stack: &Stack, email: &str, token: &str) -> (StatusCode, Value) {
    stack
        .post(
            "/api/auth/register",
            json!({"email": email, "password": password(), "invitation_token": token}),
        )
        .await
}

async fn viewer_reads_but_cannot_write(backend: Backend) {
    let stack = Stack::start(backend).await;
    let (_, _, owner) = stack.register().await;
    let owner_token = s(&owner, "access_token");
    let viewer_email = email();
    let invitation = invite(&stack, &owner_token, &viewer_email, "viewer").await;
    let (status, viewer) = register_invited(
        &stack,
        &viewer_email.to_uppercase(),
        &s(&invitation, "token"),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{viewer}");
    assert_eq!(
        viewer["tenant_id"], owner["tenant_id"],
        "joined the inviting tenant"
    );
    assert_eq!(viewer["roles"], json!(["viewer"]));
    let token = s(&viewer, "access_token");

    let (status, tenant) = stack.get("/api/tenants/current", &token).await;
    assert_eq!(status, StatusCode::OK, "{tenant}");
    assert_eq!(tenant["role"], "viewer");
    assert_eq!(tenant["tenant_id"], owner["tenant_id"]);
    let (status, list) = stack.get("/api/conversations", &token).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "a viewer reads through the gateway: {list}"
    );
    let (status, members) = stack.get("/api/tenants/current/members", &token).await;
    assert_eq!(status, StatusCode::OK, "{members}");
    assert_eq!(members["items"].as_array().unwrap().len(), 2);

    for (method, path, body) in [
        (
            Method::PATCH,
            "/api/tenants/current",
            json!({"name": "mine now"}),
        ),
        (
            Method::POST,
            "/api/tenants/current/members",
            json!({"email": email(), "role": "viewer"}),
        ),
        (
            Method::POST,
            "/api/tenants/current/api-keys",
            json!({"name": "k", "scopes": ["agents:read"]}),
        ),
    ] {
        let (status, body) = send(&stack, &stack.exp(""), method, path, &token, Some(body)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}: {body}");
        assert_eq!(body["error"]["code"], "missing_scope");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("`admin`"),
            "names the scope: {body}"
        );
    }
    let (_, tenant) = stack.get("/api/tenants/current", &owner_token).await;
    assert_ne!(tenant["name"], "mine now", "nothing changed");

    // The owner renames; bad names are 422 with the field.
    for bad in ["", "   ", "a\u{0}b", &"x".repeat(101)] {
        let (status, body) = send(
            &stack,
            &stack.exp(""),
            Method::PATCH,
            "/api/tenants/current",
            &owner_token,
            Some(json!({"name": bad})),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad:?}: {body}");
        assert_eq!(body["error"]["fields"][0]["field"], "name");
    }
    let (status, body) = send(
        &stack,
        &stack.exp(""),
        Method::PATCH,
        "/api/tenants/current",
        &owner_token,
        Some(json!({"name": " Acme "})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (body["name"].as_str(), body["role"].as_str()),
        (Some("Acme"), Some("owner"))
    );

    // Every new route is documented with its statuses, the error body and validation rules.
    let (status, _, doc) = stack
        .call(Method::GET, &stack.exp("/openapi.json"), None, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let change = &doc["paths"]["/api/tenants/current/members/{user_id}"]["patch"]["responses"];
    for code in [
        "200", "400", "401", "403", "404", "409", "413", "415", "422", "429",
    ] {
        assert!(
            change[code].is_object(),
            "PATCH member documents {code}: {change}"
        );
    }
    assert!(doc["paths"]["/api/tenants/current/api-keys/{key_id}"]["delete"].is_object());
    let schemas = &doc["components"]["schemas"];
    assert_eq!(
        schemas["AddMember"]["properties"]["email"]["format"],
        "email"
    );
    assert_eq!(
        schemas["RenameTenant"]["properties"]["name"]["maxLength"],
        100
    );
    assert_eq!(
        schemas["Role"]["enum"],
        json!(["owner", "admin", "member", "viewer"])
    );
    assert!(doc["components"]["securitySchemes"]["api_key"].is_object());
}

async fn invitations_are_single_use_and_bound_to_an_email(backend: Backend) {
    let stack = Stack::start(backend).await;
    let (_, _, owner) = stack.register().await;
    let owner_token = s(&owner, "access_token");

    let first = email();
    let token = s(
        &invite(&stack, &owner_token, &first, "member").await,
        "token",
    );
    // Another email: refused, and nothing is left behind (that email registers normally later).
    let stranger = email();
    let (status, body) = register_invited(&stack, &stranger, &token).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error"]["code"], "invitation_email_mismatch");
    let (status, joined) = register_invited(&stack, &first, &token).await;
    assert_eq!(status, StatusCode::CREATED, "{joined}");
    assert_eq!(joined["roles"], json!(["member"]));
    // Twice: refused.
    let (status, body) = register_invited(&stack, &email(), &token).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"]["code"], "invitation_used");
    let (status, body) = register_invited(&stack, &email(), "not-a-token").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["code"], "invalid_invitation");
    let (status, body) = stack
        .post(
            "/api/auth/register",
            json!({"email": stranger, "password": password()}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "the refused register left nothing: {body}"
    );
    assert_ne!(body["tenant_id"], owner["tenant_id"]);

    // Adding the now-registered member again: 409; a registered user is added directly.
    let (status, body) = send(
        &stack,
        &stack.exp(""),
        Method::POST,
        "/api/tenants/current/members",
        &owner_token,
        Some(json!({"email": first, "role": "viewer"})),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"]["code"], "already_member");
    let (status, body) = send(
        &stack,
        &stack.exp(""),
        Method::POST,
        "/api/tenants/current/members",
        &owner_token,
        Some(json!({"email": stranger, "role": "bogus"})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["fields"][0]["field"], "role");
}

async fn an_expired_invitation_is_refused(backend: Backend) {
    let options = Options {
        experience_env: vec![("APP__TENANTS__INVITATION_TTL_SECS".into(), "1".into())],
        ..Options::default()
    };
    let stack = Stack::start_with(backend, options).await;
    let (_, _, owner) = stack.register().await;
    let invitee = email();
    let invitation = invite(&stack, &s(&owner, "access_token"), &invitee, "member").await;
    let expires_at = time::OffsetDateTime::parse(
        &s(&invitation, "expires_at"),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    // Wait for the clock to pass the stated expiry (not a synchronisation: a deadline).
    let left = expires_at - time::OffsetDateTime::now_utc();
    if left.is_positive() {
        tokio::time::sleep(Duration::from_millis(left.whole_milliseconds() as u64 + 50)).await;
    }
    let (status, body) = register_invited(&stack, &invitee, &s(&invitation, "token")).await;
    assert_eq!(status, StatusCode::GONE, "{body}");
    assert_eq!(body["error"]["code"], "invitation_expired");
}

/// Owner registers; a second user (own tenant first) is added to the owner's tenant as admin.
async fn owner_and_admin(stack: &Stack) -> (Value, String, String, Value) {
    let (_, _, owner) = stack.register().await;
    let (admin_email, admin_password, own) = stack.register().await;
    let (status, member) = send(
        stack,
        &stack.exp(""),
        Method::POST,
        "/api/tenants/current/members",
        &s(&owner, "access_token"),
        Some(json!({"email": admin_email.to_uppercase(), "role": "admin"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{member}");
    assert_eq!(member["user_id"], own["user_id"]);
    assert_eq!(member["role"], "admin");
    (owner, admin_email, admin_password, own)
}

async fn a_user_in_two_tenants_chooses_at_login(backend: Backend) {
    let stack = Stack::start(backend).await;
    let (owner, email, password, own) = owner_and_admin(&stack).await;
    let first = stack.login(&email, &password).await;
    assert_eq!(
        first["tenant_id"], own["tenant_id"],
        "default: the first joined"
    );
    assert_eq!(first["roles"], json!(["owner"]));
    let (status, second) = stack
        .post(
            "/api/auth/login",
            json!({"email": email, "password": password, "tenant_id": owner["tenant_id"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{second}");
    assert_eq!(second["tenant_id"], owner["tenant_id"]);
    assert_eq!(second["roles"], json!(["admin"]));
    let (_, me) = stack.get("/api/auth/me", &s(&second, "access_token")).await;
    assert_eq!(me["tenant"]["id"], owner["tenant_id"]);
    let (status, body) = stack
        .post(
            "/api/auth/login",
            json!({"email": email, "password": password, "tenant_id": uuid::Uuid::new_v4().to_string()}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["error"]["code"], "invalid_credentials");
}

async fn a_demoted_admin_loses_admin_within_a_second(backend: Backend) {
    let stack = Stack::start(backend).await;
    let replica = stack.another_experience().await;
    let (owner, email, password, _) = owner_and_admin(&stack).await;
    let admin = stack
        .post(
            "/api/auth/login",
            json!({"email": email, "password": password, "tenant_id": owner["tenant_id"]}),
        )
        .await
        .1;
    let token = s(&admin, "access_token");
    let rename = |base: String| {
        let token = token.clone();
        let stack = &stack;
        async move {
            send(
                stack,
                &base,
                Method::PATCH,
                "/api/tenants/current",
                &token,
                Some(json!({"name": "renamed by admin"})),
            )
            .await
        }
    };
    assert_eq!(rename(stack.exp("")).await.0, StatusCode::OK);
    assert_eq!(rename(replica.url("")).await.0, StatusCode::OK);

    let (status, body) = send(
        &stack,
        &stack.exp(""),
        Method::PATCH,
        &format!("/api/tenants/current/members/{}", s(&admin, "user_id")),
        &s(&owner, "access_token"),
        Some(json!({"role": "member"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["role"], "member");
    for base in [stack.exp(""), replica.url("")] {
        within_a_second("the demoted admin's live token loses admin", || async {
            rename(base.clone()).await.0 == StatusCode::FORBIDDEN
        })
        .await;
    }
    let (status, body) = rename(replica.url("")).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("missing_scope"))
    );
    // Still a member: reads work; the token now carries the member's scopes.
    let (status, me) = stack.get("/api/auth/me", &token).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["roles"], json!(["member"]));
    // Refresh issues the current role.
    let (status, refreshed) = stack
        .post(
            "/api/auth/refresh",
            json!({"refresh_token": s(&admin, "refresh_token")}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{refreshed}");
    assert_eq!(refreshed["roles"], json!(["member"]));

    // Removed: the live token is refused everywhere within a second.
    let url = format!("/api/tenants/current/members/{}", s(&admin, "user_id"));
    let (status, _) = send(
        &stack,
        &stack.exp(""),
        Method::DELETE,
        &url,
        &s(&owner, "access_token"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    for base in [stack.exp(""), replica.url("")] {
        let token = s(&refreshed, "access_token");
        within_a_second("the removed member's token is refused", || {
            let (stack, base, token) = (&stack, base.clone(), token.clone());
            async move {
                send(
                    stack,
                    &base,
                    Method::GET,
                    "/api/tenants/current",
                    &token,
                    None,
                )
                .await
                .0 == StatusCode::UNAUTHORIZED
            }
        })
        .await;
    }
}

async fn members_are_tenant_scoped_and_the_last_owner_stays(backend: Backend) {
    let stack = Stack::start(backend).await;
    let (owner, _, _, admin_own) = owner_and_admin(&stack).await;
    let (_, _, other) = stack.register().await;
    let owner_token = s(&owner, "access_token");
    let base = stack.exp("");

    // Another tenant's member: 404 for change and removal, and nothing changes.
    let theirs = format!("/api/tenants/current/members/{}", s(&other, "user_id"));
    let (status, body) = send(
        &stack,
        &base,
        Method::PATCH,
        &theirs,
        &owner_token,
        Some(json!({"role": "viewer"})),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
    let (status, _) = send(&stack, &base, Method::DELETE, &theirs, &owner_token, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, tenant) = stack
        .get("/api/tenants/current", &s(&other, "access_token"))
        .await;
    assert_eq!(
        tenant["role"], "owner",
        "the other tenant's owner is untouched"
    );

    // The last owner can be neither removed nor demoted.
    let mine = format!("/api/tenants/current/members/{}", s(&owner, "user_id"));
    let (status, body) = send(&stack, &base, Method::DELETE, &mine, &owner_token, None).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("last_owner"))
    );
    let (status, body) = send(
        &stack,
        &base,
        Method::PATCH,
        &mine,
        &owner_token,
        Some(json!({"role": "admin"})),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("last_owner"))
    );

    let (status, members) = stack
        .get("/api/tenants/current/members?limit=1", &owner_token)
        .await;
    assert_eq!(status, StatusCode::OK, "{members}");
    assert_eq!(members["items"].as_array().unwrap().len(), 1);
    let cursor = s(&members, "next_cursor");
    let (_, rest) = stack
        .get(
            &format!("/api/tenants/current/members?limit=1&cursor={cursor}"),
            &owner_token,
        )
        .await;
    assert_eq!(rest["items"].as_array().unwrap().len(), 1);
    assert!(rest["next_cursor"].is_null(), "{rest}");
    assert_ne!(members["items"][0]["user_id"], rest["items"][0]["user_id"]);
    let (status, body) = stack
        .get("/api/tenants/current/members?cursor=%21%21", &owner_token)
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_query"))
    );

    // A second owner makes the first removable — but only an owner may grant it.
    let admin_member = format!("/api/tenants/current/members/{}", s(&admin_own, "user_id"));
    let (status, body) = send(
        &stack,
        &base,
        Method::PATCH,
        &admin_member,
        &owner_token,
        Some(json!({"role": "owner"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = send(
        &stack,
        &base,
        Method::PATCH,
        &mine,
        &owner_token,
        Some(json!({"role": "admin"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "two owners: one may step down");
    within_a_second("the former owner is an admin now", || async {
        stack.get("/api/tenants/current", &owner_token).await.1["role"] == "admin"
    })
    .await;
    let (status, body) = send(
        &stack,
        &base,
        Method::DELETE,
        &admin_member,
        &owner_token,
        None,
    )
    .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "an admin cannot remove an owner: {body}"
    );
    assert_eq!(body["error"]["code"], "forbidden");
}

/// Creates a key in the tenant of `token`.
async fn create_key(stack: &Stack, token: &str, scopes: Value) -> (StatusCode, Value) {
    send(
        stack,
        &stack.exp(""),
        Method::POST,
        "/api/tenants/current/api-keys",
        token,
        Some(json!({"name": "ci bot", "scopes": scopes})),
    )
    .await
}

async fn api_keys_act_with_their_scopes_and_die_on_revocation(backend: Backend) {
    let stack = Stack::start(backend).await;
    let replica = stack.another_experience().await;
    let (_, _, owner) = stack.register().await;
    let owner_token = s(&owner, "access_token");
    let (status, key) = create_key(&stack, &owner_token, json!(["agents:read"])).await;
    assert_eq!(status, StatusCode::CREATED, "{key}");
    let secret = s(&key, "key");
    assert!(secret.starts_with("sk_"), "{key}");
    assert_eq!(key["scopes"], json!(["agents:read"]));

    // X-API-Key and Bearer both work, on every replica; reads pass, writes are 403.
    let res = stack
        .http
        .get(stack.exp("/api/conversations"))
        .header("X-API-Key", &secret)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "X-API-Key works");
    let (status, body) = send(
        &stack,
        &replica.url(""),
        Method::GET,
        "/api/conversations",
        &secret,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, tenant) = stack.get("/api/tenants/current", &secret).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(tenant["tenant_id"], owner["tenant_id"]);
    assert!(tenant["role"].is_null());
    let (status, body) = send(
        &stack,
        &stack.exp(""),
        Method::PATCH,
        "/api/tenants/current",
        &secret,
        Some(json!({"name": "x"})),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("missing_scope"))
    );
    let (status, body) = create_key(&stack, &secret, json!(["agents:read"])).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "a key cannot mint keys without admin: {body}"
    );
    // Not on the agent socket.
    let (status, body) = stack
        .get(
            &format!("/api/runtime/agent?access_token={secret}"),
            &secret,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("API keys"),
        "{body}"
    );

    // Validation names the scope; the list carries no key material.
    let (status, body) = create_key(
        &stack,
        &owner_token,
        json!(["agents:read", "root:everything"]),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["fields"][0]["field"], "scopes[1]");
    let (status, list) = stack
        .get("/api/tenants/current/api-keys", &owner_token)
        .await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let text = list.to_string();
    assert!(
        !text.contains(&secret) && list["items"][0]["key"].is_null(),
        "{list}"
    );
    assert_eq!(list["items"][0]["key_id"], key["key_id"]);

    // Another tenant cannot revoke it; unknown keys are 401.
    let (_, _, other) = stack.register().await;
    let url = format!("/api/tenants/current/api-keys/{}", s(&key, "key_id"));
    let (status, _) = send(
        &stack,
        &stack.exp(""),
        Method::DELETE,
        &url,
        &s(&other, "access_token"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let bogus = format!("sk_{}", "A".repeat(43));
    assert_eq!(
        stack.get("/api/conversations", &bogus).await.0,
        StatusCode::UNAUTHORIZED
    );

    // Revoked: 401 on every replica within a second.
    let (status, _) = send(
        &stack,
        &stack.exp(""),
        Method::DELETE,
        &url,
        &owner_token,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    for base in [stack.exp(""), replica.url("")] {
        within_a_second("the revoked key is refused", || {
            let (stack, base, secret) = (&stack, base.clone(), secret.clone());
            async move {
                send(
                    stack,
                    &base,
                    Method::GET,
                    "/api/conversations",
                    &secret,
                    None,
                )
                .await
                .0 == StatusCode::UNAUTHORIZED
            }
        })
        .await;
    }
}

async fn api_keys_are_throttled(backend: Backend) {
    let options = Options {
        experience_env: vec![
            ("APP__TENANTS__API_KEY_BURST".into(), "3".into()),
            (
                "APP__TENANTS__API_KEY_REQUESTS_PER_SEC".into(),
                "0.2".into(),
            ),
        ],
        ..Options::default()
    };
    let stack = Stack::start_with(backend, options).await;
    let (_, _, owner) = stack.register().await;
    let (_, key) = create_key(&stack, &s(&owner, "access_token"), json!(["agents:read"])).await;
    let secret = s(&key, "key");
    for _ in 0..3 {
        assert_eq!(
            stack.get("/api/tenants/current", &secret).await.0,
            StatusCode::OK
        );
    }
    let (status, headers, body) = stack
        .call(
            Method::GET,
            &stack.exp("/api/tenants/current"),
            Some(&secret),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert!(headers.get("retry-after").is_some());
    // People are not throttled by it.
    assert_eq!(
        stack
            .get("/api/tenants/current", &s(&owner, "access_token"))
            .await
            .0,
        StatusCode::OK
    );
}

both_backends!(
    viewer_reads_but_cannot_write,
    invitations_are_single_use_and_bound_to_an_email,
    an_expired_invitation_is_refused,
    a_user_in_two_tenants_chooses_at_login,
    a_demoted_admin_loses_admin_within_a_second,
    members_are_tenant_scoped_and_the_last_owner_stays,
    api_keys_act_with_their_scopes_and_die_on_revocation,
    api_keys_are_throttled,
);
