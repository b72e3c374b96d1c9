//! A minimal HTTP/1.1 keep-alive client for the GET-heavy scenarios.
//!
//! Why not reqwest here: on a 2-core machine the load generator shares the CPU with the servers
//! it measures. hyper's client costs tens of microseconds per request, about as much as a bare
//! actix-web handler, so it would dilute the "service vs bare handler" ratio towards 1 and hide
//! the services' own overhead. This client writes a pre-built request and reads exactly one
//! response (`Content-Length`, chunked, or until close), so the client's share stays small and
//! identical on both sides of a comparison. Bodies with JSON (login, refresh) go through reqwest,
//! where the server's work (Argon2, SQL) dwarfs the client's; the one POST measured at GET-like
//! cost, a governance evaluation, is pre-built here too ([`post_request`]).

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::ops::Range;

use anyhow::{bail, Context as _, Result};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// Refuse response heads and bodies past these sizes (a broken server must not eat memory).
const MAX_HEAD: usize = 64 * 1024;
const MAX_BODY: usize = 16 * 1024 * 1024;

/// Builds a GET request once; it is sent unchanged on every iteration.
pub fn get_request(addr: SocketAddr, path: &str, bearer: Option<&str>) -> Vec<u8> {
    let mut text = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: application/json\r\n");
    if let Some(token) = bearer {
        let _ = write!(text, "Authorization: Bearer {token}\r\n");
    }
    text.push_str("\r\n");
    text.into_bytes()
}

/// Builds a JSON POST request once (`POST /api/governance/evaluate` under load); it is sent
/// unchanged on every iteration.
pub fn post_request(addr: SocketAddr, path: &str, bearer: Option<&str>, body: &str) -> Vec<u8> {
    let mut text = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: application/json\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n",
        body.len()
    );
    if let Some(token) = bearer {
        let _ = write!(text, "Authorization: Bearer {token}\r\n");
    }
    text.push_str("\r\n");
    text.push_str(body);
    text.into_bytes()
}

/// One keep-alive connection (reconnects when the server closed it).
#[derive(Debug)]
pub struct Http1 {
    addr: SocketAddr,
    stream: Option<TcpStream>,
    buf: Vec<u8>,
    body: Range<usize>,
}

impl Http1 {
    /// A client for `addr`; the connection opens on the first request.
    pub fn new(addr: SocketAddr) -> Self {
        Self {
            addr,
            stream: None,
            buf: Vec::with_capacity(8 * 1024),
            body: 0..0,
        }
    }

    /// Sends `request` and reads the response; returns the status. A request on a reused
    /// connection that fails is retried once on a fresh one (the server may have closed an idle
    /// connection). Besides GETs, only governance evaluations go through here: a retried one is
    /// one more decision in the audit chain, which changes no measured number.
    pub async fn send(&mut self, request: &[u8]) -> Result<u16> {
        let reused = self.stream.is_some();
        match self.exchange(request).await {
            Ok(status) => Ok(status),
            Err(_) if reused => {
                self.stream = None;
                self.exchange(request).await
            }
            Err(error) => Err(error),
        }
    }

    /// Sends `request` and fails unless the status is `want`, quoting the body.
    pub async fn expect(&mut self, request: &[u8], want: u16) -> Result<()> {
        let status = self.send(request).await?;
        if status != want {
            bail!(
                "HTTP {status} (expected {want}): {}",
                snippet(self.buf.get(self.body.clone()).unwrap_or_default())
            );
        }
        Ok(())
    }

    async fn exchange(&mut self, request: &[u8]) -> Result<u16> {
        let result = self.exchange_inner(request).await;
        if result.is_err() {
            self.stream = None;
        }
        result
    }

    async fn exchange_inner(&mut self, request: &[u8]) -> Result<u16> {
        if self.stream.is_none() {
            let stream = TcpStream::connect(self.addr)
                .await
                .with_context(|| format!("connecting to {}", self.addr))?;
            stream.set_nodelay(true)?;
            self.stream = Some(stream);
        }
        let Some(stream) = self.stream.as_mut() else {
            bail!("no connection");
        };
        stream.write_all(request).await?;
        let buf = &mut self.buf;
        buf.clear();
        let head_end = loop {
            if let Some(at) = find(buf, b"\r\n\r\n") {
                break at + 4;
            }
            if buf.len() > MAX_HEAD {
                bail!("response head larger than {MAX_HEAD} bytes");
            }
            read_more(stream, buf).await?;
        };
        let head = Head::parse(buf.get(..head_end).unwrap_or_default())?;
        self.body = if head.status < 200 || head.status == 204 || head.status == 304 {
            head_end..head_end
        } else if head.chunked {
            read_chunked(stream, buf, head_end).await?
        } else if let Some(length) = head.content_length {
            if length > MAX_BODY {
                bail!("response body of {length} bytes");
            }
            while buf.len() < head_end + length {
                read_more(stream, buf).await?;
            }
            head_end..head_end + length
        } else {
            read_to_close(stream, buf).await?;
            self.stream = None;
            head_end..buf.len()
        };
        if head.close {
            self.stream = None;
        }
        Ok(head.status)
    }
}

/// The parts of a response head this client acts on.
#[derive(Debug, PartialEq, Eq)]
struct Head {
    status: u16,
    content_length: Option<usize>,
    chunked: bool,
    close: bool,
}

impl Head {
    fn parse(head: &[u8]) -> Result<Self> {
        let text = std::str::from_utf8(head).context("response head is not UTF-8")?;
        let mut lines = text.split("\r\n");
        let status_line = lines.next().unwrap_or_default();
        let mut parts = status_line.split(' ');
        let version = parts.next().unwrap_or_default();
        let status = parts
            .next()
            .and_then(|code| code.parse::<u16>().ok())
            .with_context(|| format!("bad status line {status_line:?}"))?;
        let mut parsed = Self {
            status,
            content_length: None,
            chunked: false,
            close: version == "HTTP/1.0",
        };
        for line in lines.filter(|line| !line.is_empty()) {
            let Some((name, value)) = line.split_once(':') else {
                bail!("bad header line {line:?}");
            };
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-length") {
                parsed.content_length = Some(value.parse().context("bad Content-Length")?);
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                parsed.chunked = value.to_ascii_lowercase().contains("chunked");
            } else if name.eq_ignore_ascii_case("connection") {
                parsed.close = value.eq_ignore_ascii_case("close");
            }
        }
        Ok(parsed)
    }
}

async fn read_more(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Result<()> {
    buf.reserve(8 * 1024);
    if stream.read_buf(buf).await? == 0 {
        bail!("connection closed by the server");
    }
    Ok(())
}

async fn read_to_close(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Result<()> {
    loop {
        buf.reserve(8 * 1024);
        if stream.read_buf(buf).await? == 0 || buf.len() > MAX_BODY {
            return Ok(());
        }
    }
}

/// Reads a chunked body starting at `start`; returns the range of the raw (still chunked) body,
/// which is all an error message needs.
async fn read_chunked(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    start: usize,
) -> Result<Range<usize>> {
    let mut at = start;
    loop {
        let line_end = loop {
            if let Some(offset) = find(buf.get(at..).unwrap_or_default(), b"\r\n") {
                break at + offset;
            }
            read_more(stream, buf).await?;
        };
        let size_line = std::str::from_utf8(buf.get(at..line_end).unwrap_or_default())?;
        let size_hex = size_line.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_hex, 16)
            .with_context(|| format!("bad chunk size {size_line:?}"))?;
        at = line_end + 2;
        if size == 0 {
            // Optional trailers, then an empty line.
            loop {
                match find(buf.get(at..).unwrap_or_default(), b"\r\n") {
                    Some(0) => return Ok(start..at + 2),
                    Some(offset) => at += offset + 2,
                    None => read_more(stream, buf).await?,
                }
            }
        }
        if at + size > start + MAX_BODY {
            bail!("chunked body larger than {MAX_BODY} bytes");
        }
        while buf.len() < at + size + 2 {
            read_more(stream, buf).await?;
        }
        at += size + 2;
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let mut short: String = text.chars().take(300).collect();
    if short.len() < text.len() {
        short.push('…');
    }
    short
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    #[test]
    fn parses_heads() {
        let head = Head::parse(b"HTTP/1.1 200 OK\r\ncontent-length: 12\r\nX: y\r\n\r\n").unwrap();
        assert_eq!(
            head,
            Head {
                status: 200,
                content_length: Some(12),
                chunked: false,
                close: false
            }
        );
        let head = Head::parse(
            b"HTTP/1.1 401 Unauthorized\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        )
        .unwrap();
        assert!(head.chunked && head.close && head.status == 401);
    }

    /// A one-connection server that answers each request with the next canned response.
    async fn canned(responses: Vec<&'static [u8]>) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut buf = vec![0u8; 4096];
            for response in responses {
                let _ = socket.read(&mut buf).await.unwrap();
                socket.write_all(response).await.unwrap();
            }
        });
        addr
    }

    #[test]
    fn builds_a_post_with_its_length() {
        let addr: SocketAddr = "127.0.0.1:9".parse().unwrap();
        let request = String::from_utf8(post_request(addr, "/p", Some("t"), "{\"é\":1}")).unwrap();
        assert!(request.starts_with("POST /p HTTP/1.1\r\n"), "{request}");
        assert!(request.contains("Content-Length: 8\r\n"), "{request}");
        assert!(request.contains("Authorization: Bearer t\r\n"), "{request}");
        assert!(request.ends_with("\r\n\r\n{\"é\":1}"), "{request}");
    }

    #[tokio::test]
    async fn reads_length_and_chunked_bodies_on_one_connection() {
        let addr = canned(vec![
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}",
            b"HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nnope\r\n3\r\n!!!\r\n0\r\n\r\n",
            b"HTTP/1.1 204 No Content\r\n\r\n",
        ])
        .await;
        let mut client = Http1::new(addr);
        let request = get_request(addr, "/x", Some("t"));
        assert!(client.expect(&request, 200).await.is_ok());
        let error = client.expect(&request, 200).await.unwrap_err().to_string();
        assert!(error.contains("404") && error.contains("nope"), "{error}");
        assert_eq!(client.send(&request).await.unwrap(), 204);
    }
}
