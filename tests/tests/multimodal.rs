//! Multimodal requests end to end (SPEC §15), through the experience gateway on both backends:
//! the policy rules in order (first failing wins, nothing stored), artifacts stored once and
//! never echoed, the lifecycle and its 409s, the builtin adapter on real media generated here
//! (PNG, JPEG, WAV; TTS audio that hound reads back), the openai adapter against a real local
//! server speaking the three protocols, the enforced time limit, cancel while processing, the
//! policy's roles and tenant isolation, and the execution rows and events of every run.

use std::io::Cursor;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use e2e_tests::fake_media::FakeMedia;
use e2e_tests::{both_backends, s, Backend, Stack};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const REQUESTS: &str = "/v1/multimodal/requests";

fn png(width: u32, height: u32, pixel: impl Fn(u32, u32) -> [u8; 3]) -> Vec<u8> {
    encode(width, height, pixel, image::ImageFormat::Png)
}

fn encode(
    width: u32,
    height: u32,
    pixel: impl Fn(u32, u32) -> [u8; 3],
    format: image::ImageFormat,
) -> Vec<u8> {
    let img = image::RgbImage::from_fn(width, height, |x, y| image::Rgb(pixel(x, y)));
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, format).unwrap();
    out.into_inner()
}

/// A 16 kHz mono 16-bit WAV: `(seconds, loud)` parts, loud = a 440 Hz sine at half scale.
fn wav(parts: &[(f64, bool)]) -> Vec<u8> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 16_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut out = Cursor::new(Vec::new());
    let mut w = hound::WavWriter::new(&mut out, spec).unwrap();
    let mut n = 0u64;
    for (seconds, loud) in parts {
        for _ in 0..(seconds * 16_000.0).round() as usize {
            let t = n as f64 / 16_000.0;
            let v = if *loud {
                0.5 * (2.0 * std::f64::consts::PI * 440.0 * t).sin()
            } else {
                0.0
            };
            w.write_sample((v * 32767.0).round() as i16).unwrap();
            n += 1;
        }
    }
    w.finalize().unwrap();
    out.into_inner()
}

async fn create(stack: &Stack, token: &str, body: Value) -> (StatusCode, Value) {
    stack.send(Method::POST, REQUESTS, token, Some(body)).await
}

async fn created(stack: &Stack, token: &str, body: Value) -> Value {
    let (status, request) = create(stack, token, body).await;
    assert_eq!(status, StatusCode::CREATED, "{request}");
    assert!(s(&request, "id").starts_with("mmreq_"), "{request}");
    request
}

async fn act(stack: &Stack, token: &str, id: &str, action: &str) -> (StatusCode, Value) {
    let path = format!("{REQUESTS}/{id}/{action}");
    stack.send(Method::POST, &path, token, None).await
}

/// Polls the request until it leaves `pending`/`processing` (runs happen in the background).
async fn finished(stack: &Stack, token: &str, id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (status, body) = stack.get(&format!("{REQUESTS}/{id}"), token).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        if !matches!(body["state"].as_str(), Some("pending" | "processing")) {
            return body;
        }
        assert!(Instant::now() < deadline, "still running: {body}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn result(stack: &Stack, token: &str, id: &str) -> Value {
    let (status, body) = stack.get(&format!("{REQUESTS}/{id}/result"), token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(s(&body, "id").starts_with("mmres_"), "{body}");
    body
}

async fn download(stack: &Stack, token: &str, url: &str) -> (String, Vec<u8>) {
    let res = stack
        .http
        .get(stack.exp(url))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let ct = res.headers()["content-type"].to_str().unwrap().to_owned();
    (ct, res.bytes().await.unwrap().to_vec())
}

/// How many rows of `table` the tenant has in the runtime database.
async fn count(stack: &Stack, table: &str, tenant_id: &str) -> i64 {
    let (pool, prefix) = stack.runtime_db().await;
    sqlx::query_scalar::<_, i64>(&format!(
        "SELECT COUNT(*) FROM {prefix}{table} WHERE tenant_id = $1"
    ))
    .bind(tenant_id)
    .fetch_one(&pool)
    .await
    .unwrap()
}

/// The execution of a request's latest run: (agent_id, agent_type, status, error) and its events.
async fn execution_of(
    stack: &Stack,
    request_id: &str,
) -> ((String, String, String, Option<String>), Vec<String>) {
    let (pool, prefix) = stack.runtime_db().await;
    let row: (String, String, String, Option<String>) = sqlx::query_as(&format!(
        "SELECT e.agent_id, e.agent_type, e.status, e.error FROM {prefix}executions e \
         JOIN {prefix}multimodal_requests r ON r.execution_id = e.id WHERE r.id = $1"
    ))
    .bind(request_id)
    .fetch_one(&pool)
    .await
    .unwrap();
    let events: Vec<String> = sqlx::query_scalar(&format!(
        "SELECT event_type FROM {prefix}session_events WHERE session_id = $1 ORDER BY event_id"
    ))
    .bind(request_id)
    .fetch_all(&pool)
    .await
    .unwrap();
    (row, events)
}

/// Registers a second user into `owner`'s tenant with `role`; returns their access token.
async fn member_of(stack: &Stack, owner: &Value, role: &str) -> String {
    let email = format!("user-{}@example.com", uuid::Uuid::new_v4().simple());
    let (_, _, invitation) = stack
        .call(
            Method::POST,
            &stack.exp("/api/tenants/current/members"),
            Some(&s(owner, "access_token")),
            Some(json!({"email": email, "role": role})),
        )
        .await;
    let (status, member) = stack
        .post(
            "/api/auth/register",
            json!({"email": email, "password": "pw-member-123456", "invitation_token": s(&invitation, "token")}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{member}");
    s(&member, "access_token")
}

fn rule_of(body: &Value) -> (&str, &str) {
    (
        body["error"]["code"].as_str().unwrap_or_default(),
        body["error"]["fields"][0]["field"]
            .as_str()
            .unwrap_or_default(),
    )
}

async fn policy_rules_apply_in_order_and_store_nothing(backend: Backend) {
    let stack = Stack::start(backend).await;
    let (_, _, owner) = stack.register().await;
    let token = s(&owner, "access_token");
    let tenant = s(&owner, "tenant_id");
    let tight = json!({"max_text_chars": 10, "max_artifact_bytes": 100, "max_timeout_seconds": 5,
                       "allowed_modalities": ["text_to_speech", "vision_analysis"]});
    let (status, policy) = stack
        .send(
            Method::PUT,
            "/v1/multimodal/policy",
            &token,
            Some(tight.clone()),
        )
        .await;
    assert_eq!((status, &policy), (StatusCode::OK, &tight));

    let big = STANDARD.encode([7u8; 101]);
    let cases = [
        // Every rule broken: the first (modality) wins.
        (
            json!({"modality": "speech_to_text", "input_text": "far too long a text", "input_artifact_base64": "!!", "requested_timeout_seconds": 9}),
            "modality",
        ),
        (
            json!({"modality": "text_to_speech", "input_text": "eleven char", "requested_timeout_seconds": 9}),
            "text_length",
        ),
        (
            json!({"modality": "text_to_speech", "input_text": "ten chars!", "requested_timeout_seconds": 6}),
            "timeout",
        ),
        (
            json!({"modality": "text_to_speech", "input_text": "hello", "requested_timeout_seconds": 0}),
            "timeout",
        ),
        (
            json!({"modality": "text_to_speech", "input_text": "hello"}),
            "timeout",
        ), // default 60 > 5
        (
            json!({"modality": "vision_analysis", "input_artifact_base64": "AAA", "requested_timeout_seconds": 5}),
            "base64",
        ),
        (
            json!({"modality": "vision_analysis", "input_artifact_base64": "AA AA==", "requested_timeout_seconds": 5}),
            "base64",
        ),
        (
            json!({"modality": "vision_analysis", "input_artifact_base64": big, "requested_timeout_seconds": 5}),
            "artifact_size",
        ),
    ];
    for (body, rule) in cases {
        let (status, answer) = create(&stack, &token, body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body} → {answer}");
        assert_eq!(
            rule_of(&answer),
            ("policy_violation", rule),
            "{body} → {answer}"
        );
    }
    // Shape errors are 422 naming the field.
    for (body, field) in [
        (
            json!({"modality": "vision_analysis"}),
            "input_artifact_base64",
        ),
        (
            json!({"modality": "text_to_speech", "input_text": "  "}),
            "input_text",
        ),
        (
            json!({"modality": "vision_analysis", "input_artifact_base64": "AAAA", "content_type": "png"}),
            "content_type",
        ),
    ] {
        let (status, answer) = create(&stack, &token, body.clone()).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body} → {answer}"
        );
        assert_eq!(answer["error"]["fields"][0]["field"], field, "{answer}");
    }
    let (status, answer) = create(&stack, &token, json!({"modality": "smell"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    // Nothing of it was stored.
    assert_eq!(count(&stack, "multimodal_requests", &tenant).await, 0);
    assert_eq!(count(&stack, "multimodal_artifacts", &tenant).await, 0);
    let (_, list) = stack.get(REQUESTS, &token).await;
    assert_eq!(list, json!({"items": [], "next_cursor": null}));
    // Exactly at the limits passes.
    let ok = STANDARD.encode([7u8; 100]);
    let r = created(
        &stack,
        &token,
        json!({"modality": "vision_analysis", "input_artifact_base64": ok,
        "requested_timeout_seconds": 5, "execute_now": false, "input_text": "ten chars!"}),
    )
    .await;
    assert_eq!(r["state"], "pending");
    assert_eq!(r["input_artifact"]["bytes"], 100);
    assert_eq!(
        r["input_artifact"]["content_type"],
        "application/octet-stream"
    );
}

async fn artifacts_are_stored_once_and_never_echoed(backend: Backend) {
    let stack = Stack::start(backend).await;
    let (_, _, owner) = stack.register().await;
    let token = s(&owner, "access_token");
    let tenant = s(&owner, "tenant_id");
    let image = png(20, 10, |_, _| [10, 20, 30]);
    let encoded = STANDARD.encode(&image);
    let body = json!({"modality": "vision_analysis", "input_artifact_base64": encoded, "execute_now": false});
    let first = created(&stack, &token, body.clone()).await;
    let second = created(&stack, &token, body.clone()).await;
    assert_ne!(first["id"], second["id"]);
    let expected = ring::digest::digest(&ring::digest::SHA256, &image);
    let hex: String = expected
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    for r in [&first, &second] {
        assert_eq!(
            r["input_artifact"],
            json!({"bytes": image.len(), "sha256": hex, "content_type": "image/png"})
        );
        assert!(!r.to_string().contains(&encoded[..40]), "{r}");
        assert_eq!(r["requested_by"], owner["user"]["id"]);
        assert_eq!(r["tenant_id"], tenant.as_str());
        assert_eq!(r["requested_timeout_seconds"], 60);
    }
    assert_eq!(count(&stack, "multimodal_artifacts", &tenant).await, 1);
    let (_, list) = stack.get(REQUESTS, &token).await;
    assert!(!list.to_string().contains(&encoded[..40]));
    assert_eq!(list["items"][0]["id"], second["id"]);
    assert_eq!(list["items"][1]["id"], first["id"]);
    // Another tenant's identical bytes are its own artifact.
    let (_, _, other) = stack.register().await;
    created(&stack, &s(&other, "access_token"), body).await;
    assert_eq!(count(&stack, "multimodal_artifacts", &tenant).await, 1);
    assert_eq!(
        count(&stack, "multimodal_artifacts", &s(&other, "tenant_id")).await,
        1
    );
}

async fn the_lifecycle_refuses_forbidden_moves(backend: Backend) {
    let stack = Stack::start(backend).await;
    let (_, _, owner) = stack.register().await;
    let token = s(&owner, "access_token");
    let body =
        json!({"modality": "text_to_speech", "input_text": "Hello there.", "execute_now": false});
    let pending = created(&stack, &token, body.clone()).await;
    let id = s(&pending, "id");
    assert_eq!(
        (pending["state"].clone(), pending["result_id"].clone()),
        (json!("pending"), Value::Null)
    );
    let (status, missing) = stack.get(&format!("{REQUESTS}/{id}/result"), &token).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{missing}");

    let (status, cancelled) = act(&stack, &token, &id, "cancel").await;
    assert_eq!(status, StatusCode::OK, "{cancelled}");
    assert_eq!(cancelled["state"], "cancelled");
    assert_eq!(cancelled["error_message"], "cancelled by the user");
    for action in ["execute", "cancel"] {
        let (status, refused) = act(&stack, &token, &id, action).await;
        assert_eq!(status, StatusCode::CONFLICT, "{refused}");
        assert_eq!(refused["error"]["code"], "invalid_transition");
        assert_eq!(
            refused["error"]["message"],
            format!("cannot {action} a multimodal request that is cancelled")
        );
    }

    let run = created(&stack, &token, body.clone()).await;
    let run_id = s(&run, "id");
    let (status, started) = act(&stack, &token, &run_id, "execute").await;
    assert_eq!(status, StatusCode::OK, "{started}");
    assert!(s(&started, "result_id").starts_with("mmres_"));
    let done = finished(&stack, &token, &run_id).await;
    assert_eq!(done["state"], "completed", "{done}");
    for action in ["execute", "cancel"] {
        let (status, refused) = act(&stack, &token, &run_id, action).await;
        assert_eq!(status, StatusCode::CONFLICT, "{refused}");
        assert_eq!(
            refused["error"]["message"],
            format!("cannot {action} a multimodal request that is completed")
        );
    }
    let ((agent, kind, status, _), events) = execution_of(&stack, &run_id).await;
    assert_eq!(
        (agent.as_str(), kind.as_str(), status.as_str()),
        ("multimodal.text_to_speech", "multimodal", "completed")
    );
    assert_eq!(events, ["EXECUTION_STARTED", "EXECUTION_COMPLETED"]);

    // Filters and pages.
    let vision = created(&stack, &token, json!({"modality": "vision_analysis",
        "input_artifact_base64": STANDARD.encode(png(2, 2, |_, _| [0, 0, 0])), "execute_now": false})).await;
    let (_, by_state) = stack
        .get(&format!("{REQUESTS}?state=completed"), &token)
        .await;
    assert_eq!(by_state["items"].as_array().unwrap().len(), 1);
    assert_eq!(by_state["items"][0]["id"], run_id.as_str());
    let (_, by_modality) = stack
        .get(&format!("{REQUESTS}?modality=vision_analysis"), &token)
        .await;
    assert_eq!(by_modality["items"].as_array().unwrap().len(), 1);
    assert_eq!(by_modality["items"][0]["id"], vision["id"]);
    let (_, page) = stack.get(&format!("{REQUESTS}?limit=2"), &token).await;
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    let cursor = s(&page, "next_cursor");
    let (_, rest) = stack
        .get(&format!("{REQUESTS}?limit=2&cursor={cursor}"), &token)
        .await;
    assert_eq!(rest["items"].as_array().unwrap().len(), 1);
    assert_eq!(rest["items"][0]["id"], id.as_str());
    assert_eq!(rest["next_cursor"], Value::Null);
    let (status, _) = stack
        .get(&format!("{REQUESTS}?state=sleeping"), &token)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

async fn builtin_vision_reads_real_images(backend: Backend) {
    let stack = Stack::start(backend).await;
    let (_, _, owner) = stack.register().await;
    let token = s(&owner, "access_token");
    // 3/4 red, 1/4 blue.
    let image = png(
        64,
        32,
        |x, _| if x < 48 { [255, 0, 0] } else { [0, 0, 255] },
    );
    let r = created(
        &stack,
        &token,
        json!({"modality": "vision_analysis",
        "input_artifact_base64": STANDARD.encode(&image)}),
    )
    .await;
    let id = s(&r, "id");
    assert_eq!(finished(&stack, &token, &id).await["state"], "completed");
    let out = result(&stack, &token, &id).await;
    assert_eq!(out["state"], "completed");
    assert_eq!(out["request_id"], id.as_str());
    let data = &out["output_data"];
    assert_eq!(
        (
            data["format"].clone(),
            data["width"].clone(),
            data["height"].clone()
        ),
        (json!("png"), json!(64), json!(32))
    );
    assert_eq!(
        data["dominant_colours"],
        json!([{"hex": "#ff0000", "rgb": [255, 0, 0], "share": 0.75}, {"hex": "#0000ff", "rgb": [0, 0, 255], "share": 0.25}])
    );
    assert!(s(&out, "output_text").contains("64×32 PNG"), "{out}");
    assert_eq!(out["output_artifact"], Value::Null);
    let ((agent, _, status, _), events) = execution_of(&stack, &id).await;
    assert_eq!(
        (agent.as_str(), status.as_str()),
        ("multimodal.vision_analysis", "completed")
    );
    assert_eq!(events, ["EXECUTION_STARTED", "EXECUTION_COMPLETED"]);

    // A solid green JPEG (lossy: within a few levels of the colour).
    let jpeg = encode(40, 30, |_, _| [0, 160, 0], image::ImageFormat::Jpeg);
    let r = created(
        &stack,
        &token,
        json!({"modality": "vision_analysis",
        "input_artifact_base64": STANDARD.encode(&jpeg)}),
    )
    .await;
    assert_eq!(r["input_artifact"]["content_type"], "image/jpeg");
    let id = s(&r, "id");
    assert_eq!(finished(&stack, &token, &id).await["state"], "completed");
    let data = result(&stack, &token, &id).await["output_data"].clone();
    assert_eq!(
        (
            data["format"].clone(),
            data["width"].clone(),
            data["height"].clone()
        ),
        (json!("jpeg"), json!(40), json!(30))
    );
    let colours = data["dominant_colours"].as_array().unwrap();
    assert_eq!(colours.len(), 1, "{data}");
    assert_eq!(colours[0]["share"], 1.0);
    let rgb: Vec<i64> = colours[0]["rgb"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    for (got, want) in rgb.iter().zip([0, 160, 0]) {
        assert!((got - want).abs() <= 4, "{rgb:?}");
    }

    // Not an image: the run fails with a clear message, not a 500.
    let mut broken = image[..40].to_vec();
    broken.extend_from_slice(&[0u8; 60]);
    let r = created(
        &stack,
        &token,
        json!({"modality": "vision_analysis",
        "input_artifact_base64": STANDARD.encode(&broken)}),
    )
    .await;
    let done = finished(&stack, &token, &s(&r, "id")).await;
    assert_eq!(done["state"], "failed");
    assert!(
        s(&done, "error_message").starts_with("the png image could not be decoded"),
        "{done}"
    );
    let ((_, _, status, error), events) = execution_of(&stack, &s(&r, "id")).await;
    assert_eq!(status, "failed");
    assert_eq!(error, done["error_message"].as_str().map(str::to_owned));
    assert_eq!(events, ["EXECUTION_STARTED", "EXECUTION_FAILED"]);
}

async fn builtin_speech_to_text_measures_a_wav(backend: Backend) {
    let stack = Stack::start(backend).await;
    let (_, _, owner) = stack.register().await;
    let token = s(&owner, "access_token");
    let audio = wav(&[(0.5, true), (0.3, false), (0.7, true)]);
    let r = created(
        &stack,
        &token,
        json!({"modality": "speech_to_text",
        "input_artifact_base64": STANDARD.encode(&audio)}),
    )
    .await;
    assert_eq!(r["input_artifact"]["content_type"], "audio/wav");
    let id = s(&r, "id");
    assert_eq!(finished(&stack, &token, &id).await["state"], "completed");
    let out = result(&stack, &token, &id).await;
    let data = &out["output_data"];
    assert_eq!(data["duration_seconds"], 1.5);
    assert_eq!(data["sample_rate"], 16000);
    assert_eq!(data["channels"], 1);
    assert_eq!(data["transcript"], Value::Null);
    assert_eq!(
        data["segments"],
        json!([
            {"kind": "speech", "start_seconds": 0.0, "end_seconds": 0.5},
            {"kind": "silence", "start_seconds": 0.5, "end_seconds": 0.8},
            {"kind": "speech", "start_seconds": 0.8, "end_seconds": 1.5},
        ])
    );
    // A half-scale sine over 1.2 s of 1.5 s: RMS = sqrt(0.125 × 0.8) = 0.316 → −10.0 dBFS.
    let loudness = data["loudness_dbfs"].as_f64().unwrap();
    assert!((loudness + 10.0).abs() < 0.05, "{loudness}");
    assert!(s(&out, "output_text").starts_with("No transcript"), "{out}");
}

async fn builtin_text_to_speech_renders_a_downloadable_wav(backend: Backend) {
    let stack = Stack::start(backend).await;
    let (_, _, owner) = stack.register().await;
    let token = s(&owner, "access_token");
    let mut durations = Vec::new();
    for text in ["Hi.", "Hello there, this is a longer sentence."] {
        let r = created(
            &stack,
            &token,
            json!({"modality": "text_to_speech", "input_text": text}),
        )
        .await;
        let id = s(&r, "id");
        assert_eq!(finished(&stack, &token, &id).await["state"], "completed");
        let out = result(&stack, &token, &id).await;
        let artifact = &out["output_artifact"];
        assert_eq!(artifact["content_type"], "audio/wav");
        assert_eq!(
            artifact["download_url"],
            format!("/v1/multimodal/results/{}/download", s(&out, "id"))
        );
        let (content_type, bytes) = download(&stack, &token, &s(artifact, "download_url")).await;
        assert_eq!(content_type, "audio/wav");
        assert_eq!(artifact["bytes"], bytes.len());
        let reader = hound::WavReader::new(Cursor::new(&bytes)).unwrap();
        assert_eq!(reader.spec().sample_rate, 16000);
        let seconds = f64::from(reader.duration()) / 16000.0;
        assert_eq!(
            out["output_data"]["duration_seconds"].as_f64().unwrap(),
            (seconds * 1000.0).round() / 1000.0
        );
        durations.push(seconds);
    }
    // "Hi." = 2 tones + a stop; the longer text many more.
    assert_eq!(durations[0], 0.38);
    assert!(durations[1] > durations[0] * 5.0, "{durations:?}");
    // Another tenant cannot download it.
    let (_, _, other) = stack.register().await;
    let (_, list) = stack.get(REQUESTS, &token).await;
    let result_id = s(&list["items"][0], "result_id");
    let (status, _) = stack
        .get(
            &format!("/v1/multimodal/results/{result_id}/download"),
            &s(&other, "access_token"),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn the_openai_adapter_speaks_the_three_protocols(backend: Backend) {
    let media = FakeMedia::start().await;
    let stack = Stack::start_with(backend, media.options()).await;
    let (_, _, owner) = stack.register().await;
    let token = s(&owner, "access_token");

    let audio = wav(&[(0.2, true)]);
    let r = created(
        &stack,
        &token,
        json!({"modality": "speech_to_text", "input_artifact_base64": STANDARD.encode(&audio)}),
    )
    .await;
    assert_eq!(
        finished(&stack, &token, &s(&r, "id")).await["state"],
        "completed"
    );
    let out = result(&stack, &token, &s(&r, "id")).await;
    assert_eq!(
        out["output_text"],
        format!("heard {} bytes of audio/wav with fake-whisper", audio.len())
    );
    assert_eq!(out["output_data"]["adapter"], "openai");

    let r = created(
        &stack,
        &token,
        json!({"modality": "text_to_speech", "input_text": "Twelve chars"}),
    )
    .await;
    assert_eq!(
        finished(&stack, &token, &s(&r, "id")).await["state"],
        "completed"
    );
    let out = result(&stack, &token, &s(&r, "id")).await;
    let (content_type, bytes) =
        download(&stack, &token, &s(&out["output_artifact"], "download_url")).await;
    assert_eq!(content_type, "audio/wav");
    let reader = hound::WavReader::new(Cursor::new(&bytes)).unwrap();
    assert_eq!(reader.duration(), 1200);

    let image = png(8, 8, |_, _| [1, 2, 3]);
    let r = created(
        &stack,
        &token,
        json!({"modality": "vision_analysis", "input_artifact_base64": STANDARD.encode(&image)}),
    )
    .await;
    assert_eq!(
        finished(&stack, &token, &s(&r, "id")).await["state"],
        "completed"
    );
    let out = result(&stack, &token, &s(&r, "id")).await;
    assert_eq!(
        out["output_text"],
        format!("saw {} bytes of image/png with fake-vision", image.len())
    );

    let seen = media.requests();
    let paths: Vec<&str> = seen.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/v1/audio/transcriptions",
            "/v1/audio/speech",
            "/v1/chat/completions"
        ]
    );
    assert!(seen[0]
        .content_type
        .starts_with("multipart/form-data; boundary="));
    let speech: Value = serde_json::from_slice(&seen[1].body).unwrap();
    assert_eq!(
        speech,
        json!({"model": "fake-tts", "input": "Twelve chars", "voice": "alloy", "response_format": "wav"})
    );
    assert!(seen
        .iter()
        .all(|r| r.authorization.as_deref() == Some("Bearer sk-fake-media")));
}

async fn the_time_limit_is_enforced(backend: Backend) {
    let media = FakeMedia::start().await;
    let stack = Stack::start_with(backend, media.options()).await;
    let (_, _, owner) = stack.register().await;
    let token = s(&owner, "access_token");
    let started = Instant::now();
    let r = created(
        &stack,
        &token,
        json!({"modality": "text_to_speech", "input_text": "[stall]",
        "requested_timeout_seconds": 1}),
    )
    .await;
    assert_eq!(r["state"], "processing");
    let done = finished(&stack, &token, &s(&r, "id")).await;
    let took = started.elapsed();
    assert_eq!(done["state"], "failed", "{done}");
    assert_eq!(done["error_message"], "timed out after 1 s");
    assert!(
        took >= Duration::from_secs(1) && took < Duration::from_secs(2),
        "{took:?}"
    );
    let out = result(&stack, &token, &s(&r, "id")).await;
    assert_eq!(out["state"], "failed");
    let ((_, _, status, error), events) = execution_of(&stack, &s(&r, "id")).await;
    assert_eq!(
        (status.as_str(), error.as_deref()),
        ("failed", Some("timed out after 1 s"))
    );
    assert_eq!(events, ["EXECUTION_STARTED", "EXECUTION_FAILED"]);
    // A failed request can be retried (it times out again).
    let (status, retried) = act(&stack, &token, &s(&r, "id"), "execute").await;
    assert_eq!(status, StatusCode::OK, "{retried}");
    assert_eq!(
        (retried["state"].clone(), retried["error_message"].clone()),
        (json!("processing"), Value::Null)
    );
    assert_ne!(retried["result_id"], r["result_id"]);
    assert_eq!(
        finished(&stack, &token, &s(&r, "id")).await["state"],
        "failed"
    );
}

async fn cancel_stops_a_processing_run(backend: Backend) {
    let media = FakeMedia::start().await;
    let stack = Stack::start_with(backend, media.options()).await;
    let (_, _, owner) = stack.register().await;
    let token = s(&owner, "access_token");
    let r = created(
        &stack,
        &token,
        json!({"modality": "text_to_speech", "input_text": "[stall] forever",
        "requested_timeout_seconds": 60}),
    )
    .await;
    let id = s(&r, "id");
    assert_eq!(r["state"], "processing");
    let path = format!("{REQUESTS}/{id}/cancel");
    let (status, cancelled) = stack
        .send(
            Method::POST,
            &path,
            &token,
            Some(json!({"reason": "changed my mind"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{cancelled}");
    assert_eq!(cancelled["state"], "cancelled");
    assert_eq!(cancelled["error_message"], "changed my mind");
    let out = result(&stack, &token, &id).await;
    assert_eq!(out["state"], "cancelled");
    assert!(out["completed_at"].is_string());
    let ((_, _, status, error), events) = execution_of(&stack, &id).await;
    assert_eq!(
        (status.as_str(), error.as_deref()),
        ("cancelled", Some("changed my mind"))
    );
    assert_eq!(events, ["EXECUTION_STARTED", "EXECUTION_CANCELLED"]);
    let (status, _) = act(&stack, &token, &id, "execute").await;
    assert_eq!(status, StatusCode::CONFLICT);
}

async fn the_policy_is_per_tenant_and_admin_only(backend: Backend) {
    let stack = Stack::start(backend).await;
    let (_, _, owner) = stack.register().await;
    let token = s(&owner, "access_token");
    let member = member_of(&stack, &owner, "member").await;
    let viewer = member_of(&stack, &owner, "viewer").await;
    let defaults = json!({"max_text_chars": 5000, "max_artifact_bytes": 5000000, "max_timeout_seconds": 300,
                          "allowed_modalities": ["speech_to_text", "text_to_speech", "vision_analysis"]});
    let (status, policy) = stack.get("/v1/multimodal/policy", &member).await;
    assert_eq!((status, &policy), (StatusCode::OK, &defaults));
    let new = json!({"max_text_chars": 20, "max_artifact_bytes": 1000, "max_timeout_seconds": 30,
                     "allowed_modalities": ["text_to_speech"]});
    let (status, refused) = stack
        .send(
            Method::PUT,
            "/v1/multimodal/policy",
            &member,
            Some(new.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{refused}");
    let (status, bad) = stack
        .send(
            Method::PUT,
            "/v1/multimodal/policy",
            &token,
            Some(json!({"max_text_chars": 0, "max_artifact_bytes": 1000,
            "max_timeout_seconds": 30, "allowed_modalities": []})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    assert_eq!(
        stack.get("/v1/multimodal/policy", &member).await.1,
        defaults
    );
    let (status, set) = stack
        .send(
            Method::PUT,
            "/v1/multimodal/policy",
            &token,
            Some(new.clone()),
        )
        .await;
    assert_eq!((status, &set), (StatusCode::OK, &new));
    assert_eq!(stack.get("/v1/multimodal/policy", &member).await.1, new);
    let (status, answer) = create(
        &stack,
        &member,
        json!({"modality": "vision_analysis", "input_artifact_base64": "AAAA"}),
    )
    .await;
    assert_eq!(
        (status, rule_of(&answer)),
        (StatusCode::BAD_REQUEST, ("policy_violation", "modality"))
    );
    // Another tenant keeps the defaults, and its requests pass.
    let (_, _, stranger) = stack.register().await;
    let other = s(&stranger, "access_token");
    assert_eq!(stack.get("/v1/multimodal/policy", &other).await.1, defaults);
    created(&stack, &other, json!({"modality": "vision_analysis", "input_artifact_base64": "AAAA", "execute_now": false})).await;

    // A member creates and cancels; a viewer reads but cannot write.
    let mine = created(
        &stack,
        &member,
        json!({"modality": "text_to_speech", "input_text": "hi", "execute_now": false,
        "requested_timeout_seconds": 30}),
    )
    .await;
    let id = s(&mine, "id");
    let (status, _) = create(
        &stack,
        &viewer,
        json!({"modality": "text_to_speech", "input_text": "hi"}),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        act(&stack, &viewer, &id, "cancel").await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        act(&stack, &viewer, &id, "execute").await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        stack.get(&format!("{REQUESTS}/{id}"), &viewer).await.0,
        StatusCode::OK
    );
    // Another tenant's ids are 404 everywhere.
    for path in [
        format!("{REQUESTS}/{id}"),
        format!("{REQUESTS}/{id}/result"),
    ] {
        assert_eq!(
            stack.get(&path, &other).await.0,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    for action in ["execute", "cancel"] {
        assert_eq!(
            act(&stack, &other, &id, action).await.0,
            StatusCode::NOT_FOUND
        );
    }
    assert_eq!(
        stack.get(&format!("{REQUESTS}/{id}"), &token).await.1["state"],
        "pending"
    );
}

async fn a_five_megabyte_artifact_fits_and_a_larger_body_is_refused(backend: Backend) {
    // Debug builds hash and encode 5 MB slowly: give the gateway's runtime call more than its
    // 2 s default here.
    let options = e2e_tests::Options {
        experience_env: vec![("APP__RUNTIME__TIMEOUT_MS".into(), "30000".into())],
        ..Default::default()
    };
    // The bodies are built first: a debug build takes seconds to encode them, and the gateway's
    // pooled runtime connection must not sit idle that long between the calls of this test.
    let most: Vec<u8> = (0..5_000_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let fits = json!({"modality": "vision_analysis", "input_artifact_base64": STANDARD.encode(&most), "execute_now": false});
    let mut over = most.clone();
    over.push(1);
    let over =
        json!({"modality": "vision_analysis", "input_artifact_base64": STANDARD.encode(&over)});
    let huge = json!({"modality": "vision_analysis", "input_artifact_base64": STANDARD.encode(vec![0u8; 7_000_000])});
    let stack = Stack::start_with(backend, options).await;
    let (_, _, owner) = stack.register().await;
    let token = s(&owner, "access_token");
    let tenant = s(&owner, "tenant_id");
    let r = created(&stack, &token, fits).await;
    assert_eq!(r["input_artifact"]["bytes"], 5_000_000);
    let (status, answer) = create(&stack, &token, over).await;
    assert_eq!(
        (status, rule_of(&answer)),
        (
            StatusCode::BAD_REQUEST,
            ("policy_violation", "artifact_size")
        )
    );
    let (status, answer) = create(&stack, &token, huge).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{answer}");
    assert_eq!(count(&stack, "multimodal_requests", &tenant).await, 1);
    assert_eq!(count(&stack, "multimodal_artifacts", &tenant).await, 1);
}

both_backends!(
    a_five_megabyte_artifact_fits_and_a_larger_body_is_refused,
    policy_rules_apply_in_order_and_store_nothing,
    artifacts_are_stored_once_and_never_echoed,
    the_lifecycle_refuses_forbidden_moves,
    builtin_vision_reads_real_images,
    builtin_speech_to_text_measures_a_wav,
    builtin_text_to_speech_renders_a_downloadable_wav,
    the_openai_adapter_speaks_the_three_protocols,
    the_time_limit_is_enforced,
    cancel_stops_a_processing_run,
    the_policy_is_per_tenant_and_admin_only,
);
