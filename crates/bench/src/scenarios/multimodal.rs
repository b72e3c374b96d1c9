//! Target 21 (issue "Multimodal requests"): a ~1 MB image analysed by the builtin adapter, end to
//! end. One client alone, closed loop: `POST /v1/multimodal/requests` (`vision_analysis`,
//! `execute_now`) with the image base64 in the body, then `GET /v1/multimodal/requests/{id}`
//! every millisecond until it is `completed`; the latency is from sending the create to seeing
//! `completed` (gateway → signed intent → policy checks, artifact hashed and stored → an
//! execution whose run decodes the PNG and counts its colours). Reported, not judged.

use std::io::Cursor;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _, Result};
use base64::Engine as _;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use super::agents::row;
use super::{repeated, Bench, Which};
use crate::api::Api;
use crate::load::{median, Plan, Sample, Window};
use crate::report::{self, Row, Section, Status};
use crate::services::Stack;

/// Side of the square test image, pixels (noise, so the PNG stays ~1 MB).
const SIDE: u32 = 590;

/// A deterministic noisy RGB PNG of about 1 MB.
fn image() -> Result<Vec<u8>> {
    let mut state = 0x2545_f491_u32;
    let img = image::RgbImage::from_fn(SIDE, SIDE, |_, _| {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let [r, g, b, _] = state.to_le_bytes();
        image::Rgb([r, g, b])
    });
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)?;
    Ok(out.into_inner())
}

/// One request, create → completed.
async fn one(api: &Api, token: &str, body: &Value) -> Result<()> {
    let created = api
        .call(
            Method::POST,
            "/v1/multimodal/requests",
            token,
            Some(body),
            StatusCode::CREATED,
        )
        .await?;
    let id = created["id"].as_str().context("request id")?;
    let path = format!("/v1/multimodal/requests/{id}");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let request = api
            .call(Method::GET, &path, token, None, StatusCode::OK)
            .await?;
        match request["state"].as_str() {
            Some("completed") => return Ok(()),
            Some("processing" | "pending") if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(1)).await
            }
            other => bail!("the request ended {other:?}: {request}"),
        }
    }
}

async fn window(api: &Api, token: &str, body: &Value, plan: Plan) -> Result<Sample> {
    let window = Window::start(plan);
    let mut probe = window.probe();
    while let Some(started) = probe.next_now() {
        let outcome = one(api, token, body).await;
        probe.record(started, outcome);
    }
    Ok(Sample::merge(plan, [probe]))
}

/// Measures target 21.
pub async fn vision(stack: &Stack, bench: &Bench) -> Result<Section> {
    let api = Api::new(stack.experience)?;
    let account = api.register().await?;
    let token = account.login.access_token.clone();
    let png = image()?;
    let body = json!({
        "modality": "vision_analysis",
        "input_artifact_base64": base64::engine::general_purpose::STANDARD.encode(&png),
        "execute_now": true,
    });
    let series = repeated(bench, "1 MB vision request", async |plan| {
        window(&api, &token, &body, plan).await
    })
    .await?;
    let (p50, p99) = (
        median(&series.percentiles(50.0)),
        median(&series.percentiles(99.0)),
    );
    let rates = series.rates();
    Ok(Section {
        which: Which::MultimodalVision,
        setup: format!(
            "Backends: {}. One client alone, closed loop: a {SIDE}×{SIDE} noise PNG of {} bytes \
             sent base64 as a `vision_analysis` request with `execute_now`, then its state polled \
             every millisecond until `completed` (builtin adapter: the PNG decoded and its \
             colours counted in the run). Latency from sending the create to reading \
             `completed`.",
            stack.description,
            png.len()
        ),
        rows: vec![
            row("create → completed p50", &series, 50.0),
            row("create → completed p99", &series, 99.0),
            Row::measured(
                "requests/s (one client)",
                report::rate(median(&rates)),
                report::runs(&rates, report::rate),
            ),
        ],
        measured: format!(
            "1 MB vision request p50 {} / p99 {}",
            report::ms(p50),
            report::ms(p99)
        ),
        status: Status::Info,
        notes: series.error_note().into_iter().collect(),
    })
}
