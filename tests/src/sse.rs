//! A server-sent events client for the tests: opens a stream (bearer, `?access_token=` or API
//! key; optional `Last-Event-ID`), reads frames with deadlines, and tells when the server ended
//! the stream.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::Value;

/// One frame: an event (`id`, `event`, `data`) or a comment (`: keep-alive`).
#[derive(Debug, Clone, PartialEq)]
pub struct Frame {
    /// `id:`.
    pub id: Option<i64>,
    /// `event:`.
    pub event: Option<String>,
    /// `data:` parsed as JSON.
    pub data: Value,
    /// A comment line's text (`keep-alive`).
    pub comment: Option<String>,
}

/// What reading returned.
#[derive(Debug)]
pub enum Read {
    /// A frame.
    Frame(Frame),
    /// Nothing within the deadline.
    Timeout,
    /// The server ended the stream.
    Ended,
}

/// An open stream.
pub struct Sse {
    res: reqwest::Response,
    buffer: String,
}

/// How to authenticate.
pub enum Auth<'a> {
    /// `Authorization: Bearer`.
    Bearer(&'a str),
    /// `?access_token=`.
    Query(&'a str),
    /// None.
    Nothing,
}

impl Sse {
    /// Opens `url` (the stream endpoint); answers the status and, on 200, the stream.
    pub async fn open(
        url: &str,
        auth: Auth<'_>,
        last_event_id: Option<i64>,
    ) -> (StatusCode, Option<Sse>, Value) {
        let http = reqwest::Client::new();
        let mut req = match auth {
            Auth::Bearer(token) => http.get(url).bearer_auth(token),
            Auth::Query(token) => http.get(url).query(&[("access_token", token)]),
            Auth::Nothing => http.get(url),
        };
        if let Some(id) = last_event_id {
            req = req.header("last-event-id", id.to_string());
        }
        let res = req.send().await.expect("stream request sent");
        let status = res.status();
        if status != StatusCode::OK {
            let body = res.json().await.unwrap_or(Value::Null);
            return (status, None, body);
        }
        assert_eq!(
            res.headers()["content-type"].to_str().unwrap(),
            "text/event-stream"
        );
        (
            status,
            Some(Sse {
                res,
                buffer: String::new(),
            }),
            Value::Null,
        )
    }

    /// The next frame within `within` (comments included, the `retry:` line skipped).
    pub async fn read(&mut self, within: Duration) -> Read {
        let deadline = Instant::now() + within;
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                if let Some(frame) = parse(&block) {
                    return Read::Frame(frame);
                }
                continue;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, self.res.chunk()).await {
                Err(_) => return Read::Timeout,
                Ok(Ok(Some(bytes))) => self.buffer.push_str(&String::from_utf8_lossy(&bytes)),
                Ok(_) => return Read::Ended,
            }
        }
    }

    /// The next event (comments skipped); panics after 10 s or when the stream ends.
    pub async fn event(&mut self) -> Frame {
        loop {
            match self.read(Duration::from_secs(10)).await {
                Read::Frame(f) if f.comment.is_none() => return f,
                Read::Frame(_) => {}
                other => panic!("expected an event, got {other:?}"),
            }
        }
    }

    /// Events (comments skipped) until no event arrives for `quiet`.
    pub async fn events_until_quiet(&mut self, quiet: Duration) -> Vec<Frame> {
        let mut out = Vec::new();
        let mut deadline = Instant::now() + quiet;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.read(left).await {
                Read::Frame(f) if f.comment.is_none() => {
                    out.push(f);
                    deadline = Instant::now() + quiet;
                }
                Read::Frame(_) => {}
                Read::Timeout | Read::Ended => return out,
            }
        }
    }

    /// True when the server ends the stream within `within` (frames before that are skipped).
    pub async fn ends_within(&mut self, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.read(left).await {
                Read::Ended => return true,
                Read::Timeout => return false,
                Read::Frame(_) => {}
            }
        }
    }
}

fn parse(block: &str) -> Option<Frame> {
    let mut frame = Frame {
        id: None,
        event: None,
        data: Value::Null,
        comment: None,
    };
    let mut any = false;
    for line in block.lines() {
        if let Some(c) = line.strip_prefix(": ") {
            frame.comment = Some(c.to_owned());
            any = true;
        } else if let Some(id) = line.strip_prefix("id: ") {
            frame.id = id.parse().ok();
            any = true;
        } else if let Some(e) = line.strip_prefix("event: ") {
            frame.event = Some(e.to_owned());
            any = true;
        } else if let Some(d) = line.strip_prefix("data: ") {
            frame.data = serde_json::from_str(d).unwrap_or(Value::String(d.to_owned()));
            any = true;
        }
    }
    any.then_some(frame)
}
