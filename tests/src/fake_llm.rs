//! A real local HTTP server speaking the OpenAI-compatible streaming protocol
//! (`POST /v1/chat/completions`, `stream: true`, `data:` lines, `[DONE]`), standing in for an
//! external model API. Its behaviour is chosen by a marker in the user's message:
//! - `[error]`: `500` with an OpenAI-style error body;
//! - `[stall]`: the headers and one chunk, then silence with the connection held open;
//! - `[slow]`: one chunk every 150 ms;
//! - `[leak]`: [`LEAK`] in 3-character chunks (sensitive data split across chunks);
//! - otherwise: the answer in quick chunks.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the fake model answers to `[leak]`: an e-mail address, a US SSN and a card number.
pub const LEAK: &str = "On file: jane.doe@example.com, SSN 123-45-6789, card 4111 1111 1111 1111. \
                        Anything else?";

/// The words the fake model answers with.
pub const WORDS: [&str; 12] = [
    "Streaming ",
    "works: ",
    "this ",
    "answer ",
    "arrives ",
    "in ",
    "twelve ",
    "small ",
    "pieces ",
    "from ",
    "the ",
    "model.",
];

/// A running fake model server.
pub struct FakeLlm {
    /// Its address.
    pub addr: SocketAddr,
    /// Requests received.
    pub requests: Arc<AtomicUsize>,
}

impl FakeLlm {
    /// Starts the server on a free port.
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(AtomicUsize::new(0));
        let counter = requests.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                counter.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(serve(stream));
            }
        });
        Self { addr, requests }
    }

    /// Settings that make the runtime's platform provider this server (`openai`, model
    /// `fake-model`), giving up on a silent stream after `stall_timeout_secs`.
    pub fn options(&self, stall_timeout_secs: u32) -> crate::Options {
        crate::Options {
            runtime_env: vec![
                ("APP__AGENTS__PROVIDER".into(), "openai".into()),
                ("APP__LLM__BASE_URL".into(), self.url()),
                ("APP__LLM__MODEL".into(), "fake-model".into()),
                (
                    "APP__LLM__STALL_TIMEOUT_SECS".into(),
                    stall_timeout_secs.to_string(),
                ),
                ("APP__LLM__CONNECT_TIMEOUT_SECS".into(), "2".into()),
            ],
            ..crate::Options::default()
        }
    }

    /// Base URL for `APP__LLM__BASE_URL`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

async fn read_request(stream: &mut TcpStream) -> String {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = stream.read(&mut chunk).await.unwrap_or(0);
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buf).to_string();
        if let Some(head_end) = text.find("\r\n\r\n") {
            let length = text[..head_end]
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                })
                .unwrap_or(0);
            if buf.len() >= head_end + 4 + length {
                return text[head_end + 4..].to_owned();
            }
        }
    }
    String::new()
}

fn chunk(text: &str) -> String {
    let data = serde_json::json!({"choices": [{"delta": {"content": text}}]}).to_string();
    format!("data: {data}\n\n")
}

async fn serve(mut stream: TcpStream) {
    let body = read_request(&mut stream).await;
    if body.contains("[error]") {
        let payload = r#"{"error":{"message":"the model is overloaded","type":"server_error"}}"#;
        let response = format!(
            "HTTP/1.1 500 Internal Server Error\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{payload}",
            payload.len()
        );
        let _ = stream.write_all(response.as_bytes()).await;
        return;
    }
    let head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\nconnection: close\r\n\r\n";
    if stream.write_all(head.as_bytes()).await.is_err() {
        return;
    }
    let role = "data: {\"choices\":[{\"delta\":{\"role\":\"assistant\"}}]}\n\n";
    let _ = stream.write_all(role.as_bytes()).await;
    if body.contains("[stall]") {
        let _ = stream.write_all(chunk(WORDS[0]).as_bytes()).await;
        tokio::time::sleep(Duration::from_secs(3600)).await;
        return;
    }
    if body.contains("[leak]") {
        let chars: Vec<char> = LEAK.chars().collect();
        for piece in chars.chunks(3) {
            let piece: String = piece.iter().collect();
            if stream.write_all(chunk(&piece).as_bytes()).await.is_err() {
                return;
            }
        }
        let _ = stream.write_all(b"data: [DONE]\n\n").await;
        return;
    }
    let delay = if body.contains("[slow]") {
        Duration::from_millis(150)
    } else {
        Duration::ZERO
    };
    for word in WORDS {
        if stream.write_all(chunk(word).as_bytes()).await.is_err() {
            return;
        }
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
    }
    let _ = stream.write_all(b"data: [DONE]\n\n").await;
}
