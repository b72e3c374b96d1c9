//! A real local HTTP server speaking the OpenAI-compatible media protocols, standing in for an
//! external provider in the multimodal tests:
//! - `POST /v1/audio/transcriptions` (multipart): `{"text": "heard N bytes of <type> with <model>"}`,
//!   N the size of the `file` part as received;
//! - `POST /v1/audio/speech` (JSON): a real 8 kHz mono WAV, 100 samples per input character;
//! - `POST /v1/chat/completions` (JSON, an `image_url` part with a `data:` URL): a message saying
//!   how many image bytes it decoded and of which type.
//!
//! A body containing `[stall]` is never answered (the connection is held open). Every request is
//! recorded ([`Seen`]) so tests can check what the runtime sent.

use std::io::Cursor;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One request the server received.
#[derive(Debug, Clone)]
pub struct Seen {
    /// Its path.
    pub path: String,
    /// Its content type.
    pub content_type: String,
    /// Its `authorization` header, if any.
    pub authorization: Option<String>,
    /// Its body.
    pub body: Vec<u8>,
}

/// A running fake media server.
pub struct FakeMedia {
    /// Its address.
    pub addr: SocketAddr,
    /// What it received, in order.
    pub seen: Arc<Mutex<Vec<Seen>>>,
}

impl FakeMedia {
    /// Starts the server on a free port.
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve(stream, log.clone()));
            }
        });
        Self { addr, seen }
    }

    /// Runtime settings that make this server the multimodal provider.
    pub fn options(&self) -> crate::Options {
        crate::Options {
            runtime_env: vec![
                ("APP__MULTIMODAL__PROVIDER".into(), "openai".into()),
                (
                    "APP__MULTIMODAL__BASE_URL".into(),
                    format!("http://{}", self.addr),
                ),
                ("APP__MULTIMODAL__API_KEY".into(), "sk-fake-media".into()),
                (
                    "APP__MULTIMODAL__TRANSCRIPTION_MODEL".into(),
                    "fake-whisper".into(),
                ),
                ("APP__MULTIMODAL__SPEECH_MODEL".into(), "fake-tts".into()),
                ("APP__MULTIMODAL__VISION_MODEL".into(), "fake-vision".into()),
            ],
            ..crate::Options::default()
        }
    }

    /// The requests received so far.
    pub fn requests(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

async fn read_request(stream: &mut TcpStream) -> Option<(String, Vec<(String, String)>, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        let Some(head_end) = find(&buf, b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
        let mut lines = head.lines();
        let path = lines.next()?.split(' ').nth(1)?.to_owned();
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        let length = headers
            .iter()
            .find(|(k, _)| k == "content-length")
            .and_then(|(_, v)| v.parse::<usize>().ok())
            .unwrap_or(0);
        if buf.len() >= head_end + 4 + length {
            return Some((
                path,
                headers,
                buf[head_end + 4..head_end + 4 + length].to_vec(),
            ));
        }
    }
}

async fn respond(stream: &mut TcpStream, content_type: &str, body: &[u8]) {
    let head = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes()).await;
    let _ = stream.write_all(body).await;
}

/// The `file` part of a multipart body: (its content type, its bytes), and the `model` field.
fn multipart(content_type: &str, body: &[u8]) -> (String, Vec<u8>, String) {
    let boundary = content_type.split("boundary=").nth(1).unwrap().trim();
    let delimiter = format!("--{boundary}");
    let mut file = (String::new(), Vec::new());
    let mut model = String::new();
    let mut rest = body;
    while let Some(start) = find(rest, delimiter.as_bytes()) {
        rest = &rest[start + delimiter.len()..];
        let Some(head_end) = find(rest, b"\r\n\r\n") else {
            break;
        };
        let head = String::from_utf8_lossy(&rest[..head_end]).to_string();
        let content = &rest[head_end + 4..];
        let end = find(content, format!("\r\n{delimiter}").as_bytes()).unwrap_or(content.len());
        let value = &content[..end];
        if head.contains("name=\"file\"") {
            let ct = head
                .lines()
                .find_map(|l| l.strip_prefix("Content-Type: "))
                .unwrap_or("")
                .to_owned();
            file = (ct, value.to_vec());
        } else if head.contains("name=\"model\"") {
            model = String::from_utf8_lossy(value).to_string();
        }
        rest = &content[end..];
    }
    (file.0, file.1, model)
}

async fn serve(mut stream: TcpStream, seen: Arc<Mutex<Vec<Seen>>>) {
    let Some((path, headers, body)) = read_request(&mut stream).await else {
        return;
    };
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let content_type = header("content-type").unwrap_or_default();
    seen.lock().unwrap().push(Seen {
        path: path.clone(),
        content_type: content_type.clone(),
        authorization: header("authorization"),
        body: body.clone(),
    });
    if find(&body, b"[stall]").is_some() {
        tokio::time::sleep(Duration::from_secs(3600)).await;
        return;
    }
    match path.as_str() {
        "/v1/audio/transcriptions" => {
            let (file_type, file, model) = multipart(&content_type, &body);
            let text = format!("heard {} bytes of {file_type} with {model}", file.len());
            respond(
                &mut stream,
                "application/json",
                json!({"text": text}).to_string().as_bytes(),
            )
            .await;
        }
        "/v1/audio/speech" => {
            let request: Value = serde_json::from_slice(&body).unwrap();
            let chars = request["input"].as_str().unwrap().chars().count();
            let spec = hound::WavSpec {
                channels: 1,
                sample_rate: 8000,
                bits_per_sample: 16,
                sample_format: hound::SampleFormat::Int,
            };
            let mut out = Cursor::new(Vec::new());
            let mut w = hound::WavWriter::new(&mut out, spec).unwrap();
            for i in 0..chars * 100 {
                w.write_sample(((i % 50) as i16 - 25) * 500).unwrap();
            }
            w.finalize().unwrap();
            respond(&mut stream, "audio/wav", &out.into_inner()).await;
        }
        "/v1/chat/completions" => {
            let request: Value = serde_json::from_slice(&body).unwrap();
            let url = request["messages"][0]["content"][1]["image_url"]["url"]
                .as_str()
                .unwrap();
            let (meta, data) = url.strip_prefix("data:").unwrap().split_once(',').unwrap();
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(data)
                .unwrap();
            let text = format!(
                "saw {} bytes of {} with {}",
                bytes.len(),
                meta.trim_end_matches(";base64"),
                request["model"].as_str().unwrap()
            );
            let answer = json!({"choices": [{"message": {"role": "assistant", "content": text}}]});
            respond(
                &mut stream,
                "application/json",
                answer.to_string().as_bytes(),
            )
            .await;
        }
        _ => {
            let _ = stream
                .write_all(
                    b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                )
                .await;
        }
    }
}
