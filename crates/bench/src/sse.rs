//! A minimal server-sent events client over raw TCP for targets 16 and 17.
//!
//! Why not reqwest: target 16 holds 10,000 streams from this process, and what is measured is
//! the experience service's memory per stream; a hyper client per stream would cost this
//! process far more than the service and compete for the same two cores. This client writes one
//! pre-built `GET /api/events/stream` (HTTP/1.1), checks the `200` head, then decodes the chunked
//! body into SSE frames with a small read buffer. Only what the targets need is parsed: `id:`,
//! `event:`, `data:` and comment lines.

use std::net::{IpAddr, SocketAddr};

use anyhow::{bail, Context as _, Result};
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::{TcpSocket, TcpStream};

/// Read buffer per stream (frames are small; a larger one would only cost the harness memory).
const READ_BUFFER: usize = 2048;
/// Refuse response heads and frames past this size.
const MAX_LINE: usize = 64 * 1024;

/// One frame of the stream.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Frame {
    /// `id:`.
    pub id: Option<i64>,
    /// `event:`.
    pub event: Option<String>,
    /// `data:` (raw JSON text).
    pub data: Option<String>,
    /// A comment's text (`keep-alive`).
    pub comment: Option<String>,
}

/// An open stream.
pub struct SseStream {
    reader: BufReader<TcpStream>,
    /// Bytes left in the current chunk.
    chunk_left: usize,
    /// Decoded body text not yet split into lines.
    pending: Vec<u8>,
}

impl SseStream {
    /// Connects (from `source` when given), sends the stream request with `token` (and
    /// `Last-Event-ID` when resuming), and checks the `200 text/event-stream` head.
    pub async fn open(
        addr: SocketAddr,
        token: &str,
        source: Option<IpAddr>,
        last_event_id: Option<i64>,
    ) -> Result<Self> {
        let socket = match addr {
            SocketAddr::V4(_) => TcpSocket::new_v4()?,
            SocketAddr::V6(_) => TcpSocket::new_v6()?,
        };
        if let Some(ip) = source {
            socket
                .bind(SocketAddr::new(ip, 0))
                .with_context(|| format!("binding {ip}"))?;
        }
        let mut stream = socket.connect(addr).await.context("connecting")?;
        stream.set_nodelay(true)?;
        let resume = last_event_id
            .map(|id| format!("Last-Event-ID: {id}\r\n"))
            .unwrap_or_default();
        let request = format!(
            "GET /api/events/stream HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\n\
             Authorization: Bearer {token}\r\n{resume}\r\n"
        );
        stream.write_all(request.as_bytes()).await?;
        let mut reader = BufReader::with_capacity(READ_BUFFER, stream);
        let mut line = String::new();
        let mut status = None;
        let mut chunked = false;
        let mut event_stream = false;
        loop {
            line.clear();
            let n = (&mut reader)
                .take(MAX_LINE as u64)
                .read_line(&mut line)
                .await?;
            if n == 0 {
                bail!("the server closed the connection before the response head");
            }
            let text = line.trim_end();
            if text.is_empty() {
                break;
            }
            match status {
                None => status = text.split(' ').nth(1).map(str::to_owned),
                Some(_) => {
                    let lower = text.to_ascii_lowercase();
                    chunked |= lower.starts_with("transfer-encoding:") && lower.contains("chunked");
                    event_stream |=
                        lower.starts_with("content-type:") && lower.contains("text/event-stream");
                }
            }
        }
        if status.as_deref() != Some("200") {
            bail!("stream answered HTTP {}", status.unwrap_or_default());
        }
        if !(chunked && event_stream) {
            bail!("expected a chunked text/event-stream response");
        }
        Ok(Self {
            reader,
            chunk_left: 0,
            pending: Vec::new(),
        })
    }

    /// The next frame; `None` when the server ended the stream.
    pub async fn next(&mut self) -> Result<Option<Frame>> {
        let mut frame = Frame::default();
        let mut any = false;
        loop {
            let Some(line) = self.line().await? else {
                return Ok(None);
            };
            if line.is_empty() {
                if any {
                    return Ok(Some(frame));
                }
                continue;
            }
            any = true;
            if let Some(c) = line.strip_prefix(':') {
                frame.comment = Some(c.trim_start().to_owned());
            } else if let Some(v) = line.strip_prefix("id:") {
                frame.id = v.trim().parse().ok();
            } else if let Some(v) = line.strip_prefix("event:") {
                frame.event = Some(v.trim().to_owned());
            } else if let Some(v) = line.strip_prefix("data:") {
                frame.data = Some(v.trim_start().to_owned());
            }
        }
    }

    /// The next body line (without its `\n`); `None` at the end of the body.
    async fn line(&mut self) -> Result<Option<String>> {
        loop {
            if let Some(end) = self.pending.iter().position(|b| *b == b'\n') {
                let rest = self.pending.split_off(end + 1);
                let mut line = std::mem::replace(&mut self.pending, rest);
                line.pop();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                return Ok(Some(String::from_utf8_lossy(&line).into_owned()));
            }
            if self.pending.len() > MAX_LINE {
                bail!("an SSE line longer than {MAX_LINE} bytes");
            }
            if !self.fill().await? {
                return Ok(None);
            }
        }
    }

    /// Moves the next decoded body bytes into `pending`; false at the end of the body.
    async fn fill(&mut self) -> Result<bool> {
        if self.chunk_left == 0 {
            let mut size = String::new();
            // The CRLF that ends the previous chunk, then the size line.
            while size.trim().is_empty() {
                size.clear();
                let n = (&mut self.reader)
                    .take(MAX_LINE as u64)
                    .read_line(&mut size)
                    .await?;
                if n == 0 {
                    return Ok(false);
                }
            }
            let hex = size.trim().split(';').next().unwrap_or_default();
            self.chunk_left = usize::from_str_radix(hex, 16)
                .with_context(|| format!("bad chunk size line {size:?}"))?;
            if self.chunk_left == 0 {
                return Ok(false);
            }
        }
        let available = self.reader.fill_buf().await?;
        if available.is_empty() {
            return Ok(false);
        }
        let take = available.len().min(self.chunk_left);
        self.pending.extend_from_slice(&available[..take]);
        self.reader.consume(take);
        self.chunk_left -= take;
        Ok(true)
    }
}
