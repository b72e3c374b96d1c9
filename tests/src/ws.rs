//! A small WebSocket client for the agent socket tests.

use std::time::Duration;

use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::{s, Service, Stack};

/// An open agent socket.
pub struct Ws {
    inner: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

/// How a socket ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    /// A close frame with this code.
    Closed(u16),
    /// The connection dropped without a close frame.
    Dropped,
}

/// Opens the agent socket; `Err(status)` when the server refused the upgrade.
pub async fn connect(stack: &Stack, query: &str) -> Result<Ws, u16> {
    connect_to(&stack.experience, query).await
}

/// Opens the agent socket on one experience replica; `Err(status)` when it refused the upgrade.
pub async fn connect_to(experience: &Service, query: &str) -> Result<Ws, u16> {
    let url = format!("ws://{}/api/runtime/agent?{query}", experience.addr);
    match tokio_tungstenite::connect_async(url).await {
        Ok((inner, _)) => Ok(Ws { inner }),
        Err(tokio_tungstenite::tungstenite::Error::Http(res)) => Err(res.status().as_u16()),
        Err(e) => panic!("websocket connect failed: {e}"),
    }
}

/// Opens the agent socket over a TCP connection with a 4 KiB receive buffer (a slow client).
pub async fn connect_small_buffer(stack: &Stack, query: &str) -> Ws {
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(4096).expect("buffer size");
    let stream = socket
        .connect(stack.experience.addr)
        .await
        .expect("connect");
    let url = format!("ws://{}/api/runtime/agent?{query}", stack.experience.addr);
    let (inner, _) = tokio_tungstenite::client_async(url, MaybeTlsStream::Plain(stream))
        .await
        .expect("websocket handshake");
    Ws { inner }
}

impl Ws {
    /// Sends a JSON message.
    pub async fn send(&mut self, value: Value) {
        self.inner
            .send(Message::Text(value.to_string()))
            .await
            .expect("send");
    }

    /// Sends raw text.
    pub async fn send_text(&mut self, text: String) {
        self.inner.send(Message::Text(text)).await.expect("send");
    }

    /// The next JSON frame (pings are answered and skipped); panics when none comes in 20 s.
    pub async fn next(&mut self) -> Value {
        match self.next_or_end().await {
            Ok(v) => v,
            Err(end) => panic!("socket ended: {end:?}"),
        }
    }

    /// The next JSON frame, or how the socket ended.
    pub async fn next_or_end(&mut self) -> Result<Value, Ended> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let msg = tokio::time::timeout_at(deadline, self.inner.next())
                .await
                .expect("a frame within 20 s");
            match msg {
                Some(Ok(Message::Text(t))) => {
                    return Ok(serde_json::from_str(&t).expect("JSON frame"))
                }
                Some(Ok(Message::Close(frame))) => {
                    return Err(Ended::Closed(
                        frame
                            .map(|f| u16::from(f.code))
                            .unwrap_or(u16::from(CloseCode::Status)),
                    ))
                }
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return Err(Ended::Dropped),
            }
        }
    }

    /// Frames until (and including) the first `runtime_event` of `event_type`.
    pub async fn until(&mut self, event_type: &str) -> Vec<Value> {
        let mut frames = Vec::new();
        loop {
            let frame = self.next().await;
            let done = frame["event_type"] == event_type;
            frames.push(frame);
            if done {
                return frames;
            }
        }
    }

    /// Frames until an execution ends (completed, failed or cancelled).
    pub async fn until_finished(&mut self) -> Vec<Value> {
        let mut frames = Vec::new();
        loop {
            let frame = self.next().await;
            let done = matches!(
                frame["event_type"].as_str(),
                Some("EXECUTION_COMPLETED" | "EXECUTION_FAILED" | "EXECUTION_CANCELLED")
            );
            frames.push(frame);
            if done {
                return frames;
            }
        }
    }

    /// Closes the socket from the client side.
    pub async fn close(mut self) {
        let _ = self.inner.close(None).await;
    }
}

/// Event types of a list of frames.
pub fn types(frames: &[Value]) -> Vec<String> {
    frames
        .iter()
        .filter_map(|f| f["event_type"].as_str().map(str::to_owned))
        .collect()
}

/// Opens the agent socket with a login's access token and reads its `CONNECTION_ESTABLISHED`.
pub async fn open(stack: &Stack, login: &Value) -> Ws {
    let mut ws = connect(stack, &format!("access_token={}", s(login, "access_token")))
        .await
        .unwrap();
    assert_eq!(ws.next().await["event_type"], "CONNECTION_ESTABLISHED");
    ws
}

/// The `data` of the first frame of `event_type` (panics naming the types there were).
pub fn data_of(frames: &[Value], event_type: &str) -> Value {
    frames
        .iter()
        .find(|f| f["event_type"] == event_type)
        .unwrap_or_else(|| panic!("no {event_type} in {:?}", types(frames)))["data"]
        .clone()
}
