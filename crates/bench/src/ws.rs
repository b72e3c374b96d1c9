//! WebSocket clients: the agent socket of SPEC §4 and the bare echo baseline.
//!
//! `tokio-tungstenite` over a plain `TcpStream` (the e2e tests speak the protocol the same way).
//! Frames are read into [`Frame`], which keeps only the fields the harness acts on: parsing the
//! full JSON of every delta into a `serde_json::Value` would make the load generator, which
//! shares the CPU with the services, costlier than it needs to be. A socket can bind a chosen
//! loopback source address, so runs that open thousands of connections each get a fresh range
//! of (address, port) pairs instead of colliding with the previous run's TIME_WAIT entries.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _, Result};
use futures_util::{SinkExt as _, StreamExt as _};
use serde::Deserialize;
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::WebSocketStream;

/// How long a handshake plus `CONNECTION_ESTABLISHED` may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// How long one agent turn or one echo may take before it counts as failed.
pub const TURN_TIMEOUT: Duration = Duration::from_secs(10);

/// What the harness asks the guide agent (the builtin provider answers it deterministically).
pub const INTENT: &str = "I need to upload our quarterly sales spreadsheets";

type Stream = WebSocketStream<TcpStream>;

/// The parts of a server frame the harness reads.
#[derive(Debug, Deserialize)]
struct Frame {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    event_type: Option<String>,
    #[serde(default)]
    data: Option<FrameData>,
    #[serde(default)]
    code: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct FrameData {
    #[serde(default)]
    client_message_id: Option<String>,
    #[serde(default)]
    conversation_id: Option<String>,
}

/// Opens a WebSocket to `addr` at `path` (with its query), from `source` when given.
async fn open(addr: SocketAddr, path: &str, source: Option<IpAddr>) -> Result<Stream> {
    let socket = match addr {
        SocketAddr::V4(_) => TcpSocket::new_v4()?,
        SocketAddr::V6(_) => TcpSocket::new_v6()?,
    };
    if let Some(ip) = source {
        socket
            .bind(SocketAddr::new(ip, 0))
            .with_context(|| format!("binding {ip}"))?;
    }
    let stream = socket
        .connect(addr)
        .await
        .with_context(|| format!("connecting to {addr}"))?;
    stream.set_nodelay(true)?;
    match tokio_tungstenite::client_async(format!("ws://{addr}{path}"), stream).await {
        Ok((stream, _)) => Ok(stream),
        Err(tungstenite::Error::Http(response)) => {
            let body = response
                .body()
                .as_deref()
                .map(String::from_utf8_lossy)
                .unwrap_or_default();
            let short: String = body.chars().take(300).collect();
            bail!("upgrade refused: HTTP {}: {short}", response.status())
        }
        Err(error) => Err(error).context("WebSocket handshake"),
    }
}

/// The next text frame before `deadline` (pings are answered by tungstenite while reading).
async fn next_text(stream: &mut Stream, deadline: Instant) -> Result<String> {
    loop {
        let message = tokio::time::timeout_at(deadline.into(), stream.next())
            .await
            .context("no frame in time")?;
        match message {
            Some(Ok(Message::Text(text))) => return Ok(text),
            Some(Ok(Message::Close(frame))) => {
                let (code, reason) = frame
                    .map(|f| (u16::from(f.code), f.reason.into_owned()))
                    .unwrap_or((1005, String::new()));
                bail!("closed by the server: {code} {reason}")
            }
            Some(Ok(_)) => continue,
            Some(Err(error)) => return Err(error).context("reading the socket"),
            None => bail!("the connection dropped"),
        }
    }
}

/// An open, authenticated agent socket (`CONNECTION_ESTABLISHED` received).
pub struct AgentSocket {
    stream: Stream,
    /// Prefix of this socket's `client_message_id`s.
    tag: String,
    turns: u64,
    /// The conversation the socket continues after its first turn.
    conversation: Option<String>,
    /// The deployed agent (`wrp_…`) its turns go to; the guide when `None`.
    specialist: Option<String>,
}

/// A completed turn (`EXECUTION_COMPLETED` arrived).
#[derive(Debug, Clone, Copy)]
pub struct Turn {
    /// When its first `AGENT_RESPONSE_DELTA` arrived.
    pub first_delta: Instant,
    /// When its `AGENT_RESPONSE` (the whole answer) arrived.
    pub response: Instant,
    /// Frames read for it (its events, plus any leftovers skipped).
    pub frames: usize,
}

impl AgentSocket {
    /// Connects to the experience service at `addr` with an access token and waits for
    /// `CONNECTION_ESTABLISHED`.
    pub async fn connect(addr: SocketAddr, token: &str, source: Option<IpAddr>) -> Result<Self> {
        let deadline = Instant::now() + CONNECT_TIMEOUT;
        let path = format!("/api/runtime/agent?access_token={token}");
        let opened = tokio::time::timeout_at(deadline.into(), open(addr, &path, source))
            .await
            .context("handshake timed out")??;
        let mut socket = Self {
            stream: opened,
            tag: uuid::Uuid::new_v4().simple().to_string(),
            turns: 0,
            conversation: None,
            specialist: None,
        };
        let hello = socket.frame(deadline).await?;
        if hello.event_type.as_deref() != Some("CONNECTION_ESTABLISHED") {
            bail!("first frame was {hello:?}, not CONNECTION_ESTABLISHED");
        }
        Ok(socket)
    }

    /// Sends this socket's turns to a deployed agent (`specialist`, `metadata.agent_id`).
    pub fn talk_to(&mut self, agent_id: &str) {
        self.specialist = Some(agent_id.to_owned());
        self.conversation = None;
    }

    async fn frame(&mut self, deadline: Instant) -> Result<Frame> {
        let text = next_text(&mut self.stream, deadline).await?;
        let frame: Frame = serde_json::from_str(&text)
            .with_context(|| format!("not a JSON frame: {}", snippet(&text)))?;
        if frame.kind == "error" {
            bail!("error frame: {}", snippet(&text));
        }
        Ok(frame)
    }

    /// Sends one intent to the guide or the socket's deployed agent (continuing this socket's conversation) and reads its events
    /// until `EXECUTION_COMPLETED`. Frames before this turn's `EXECUTION_STARTED` (identified by
    /// its `client_message_id`) are leftovers of an earlier failed turn and are skipped; an
    /// error frame, a failed or cancelled execution, a non-`allow` policy decision, or
    /// [`TURN_TIMEOUT`] fail the turn.
    pub async fn turn(&mut self) -> Result<Turn> {
        self.turns += 1;
        let id = format!("bench-{}-{}", self.tag, self.turns);
        let mut message = serde_json::json!({
            "type": "intent",
            "intent": INTENT,
            "agent_type": "guide",
            "metadata": { "client_message_id": id },
        });
        if let Some(conversation) = &self.conversation {
            message["metadata"]["conversation_id"] = conversation.as_str().into();
        }
        if let Some(agent_id) = &self.specialist {
            message["agent_type"] = "specialist".into();
            message["metadata"]["agent_id"] = agent_id.as_str().into();
        }
        self.stream
            .send(Message::Text(message.to_string()))
            .await
            .context("sending the intent")?;
        let deadline = Instant::now() + TURN_TIMEOUT;
        let mut started = false;
        let mut first_delta = None;
        let mut response = None;
        let mut frames = 0;
        loop {
            let frame = self.frame(deadline).await?;
            frames += 1;
            let data = frame.data.unwrap_or_default();
            match frame.event_type.as_deref().unwrap_or_default() {
                "EXECUTION_STARTED" => {
                    started = data.client_message_id.as_deref() == Some(id.as_str());
                }
                _ if !started => {}
                "AGENT_RESPONSE_DELTA" => {
                    first_delta.get_or_insert_with(Instant::now);
                }
                "AGENT_RESPONSE" => {
                    response.get_or_insert_with(Instant::now);
                    if let Some(conversation) = data.conversation_id {
                        self.conversation = Some(conversation);
                    }
                }
                "EXECUTION_COMPLETED" => {
                    let first_delta = first_delta.context("the turn streamed no delta")?;
                    let response = response.context("the turn sent no AGENT_RESPONSE")?;
                    return Ok(Turn {
                        first_delta,
                        response,
                        frames,
                    });
                }
                // A policy decision other than `allow` (or an approval wait) is not the turn
                // the harness measures: its text must pass every policy of the tenant.
                other @ ("EXECUTION_FAILED"
                | "EXECUTION_CANCELLED"
                | "SAFETY_HALTED"
                | "SAFETY_APPROVAL_PENDING"
                | "POLICY_DECISION"
                | "EVENTS_LOST") => bail!("{other} (code {:?})", frame.code),
                _ => {}
            }
        }
    }

    /// Keeps reading (answering the server's pings) until `stop` turns true. `Err` when the
    /// socket ended, or a frame arrived, before that: an idle socket receives nothing.
    pub async fn hold(mut self, mut stop: tokio::sync::watch::Receiver<bool>) -> Result<()> {
        loop {
            tokio::select! {
                changed = stop.wait_for(|stop| *stop) => {
                    changed.context("the harness went away")?;
                    return Ok(());
                }
                message = self.stream.next() => match message {
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                    Some(Ok(Message::Close(frame))) => bail!("closed by the server: {frame:?}"),
                    Some(Ok(other)) => bail!("unexpected frame on an idle socket: {other:?}"),
                    Some(Err(error)) => return Err(error).context("reading the socket"),
                    None => bail!("the connection dropped"),
                },
            }
        }
    }
}

/// A socket to the bare echo server.
pub struct EchoSocket {
    stream: Stream,
    message: String,
}

impl EchoSocket {
    /// Connects to the echo server at `addr`.
    pub async fn connect(addr: SocketAddr, path: &str) -> Result<Self> {
        let stream = tokio::time::timeout(CONNECT_TIMEOUT, open(addr, path, None))
            .await
            .context("handshake timed out")??;
        // The same bytes an agent turn sends.
        let message = serde_json::json!({
            "type": "intent",
            "intent": INTENT,
            "agent_type": "guide",
            "metadata": { "client_message_id": format!("bench-{}-1", uuid::Uuid::new_v4().simple()) },
        })
        .to_string();
        Ok(Self { stream, message })
    }

    /// Sends the message and waits for it to come back.
    pub async fn round_trip(&mut self) -> Result<()> {
        self.stream
            .send(Message::Text(self.message.clone()))
            .await
            .context("sending")?;
        let echoed = next_text(&mut self.stream, Instant::now() + TURN_TIMEOUT).await?;
        if echoed != self.message {
            bail!("the echo differs: {}", snippet(&echoed));
        }
        Ok(())
    }
}

fn snippet(text: &str) -> String {
    let mut short: String = text.chars().take(300).collect();
    if short.len() < text.len() {
        short.push('…');
    }
    short
}
