//! The session event stream of the runtime (`GET /api/session/{id}/stream`, server-sent events),
//! read as a sequence of [`StreamItem`]s.
//!
//! This module only opens the stream and parses it: the runtime first announces where it starts
//! (`: cursor N`), then sends one `data:` block per event. What to do with the items (the
//! cursor, reconnecting, back-pressure) is the consumer's business: the experience plane's socket
//! follower owns all of that.

use futures_util::stream::BoxStream;
use futures_util::StreamExt as _;

use crate::agent_wire::SessionEvent;
use crate::http::REQUEST_ID_HEADER;
use crate::runtime_call::{encode_segment, read, RuntimeClientError};
use crate::runtime_client::RuntimeClient;

/// One item of a runtime event stream (a session's, or a tenant's: `E` is the event type).
#[derive(Debug, Clone, PartialEq)]
pub enum StreamItem<E = SessionEvent> {
    /// The runtime subscribed; live events follow this event id.
    Cursor(i64),
    /// An event of the log.
    Event(E),
}

/// An open runtime event stream; [`SessionStream`] and the tenant stream
/// (`runtime_live::TenantStream`) are this over their event types.
pub struct EventStream<E> {
    body: BoxStream<'static, Result<Vec<u8>, RuntimeClientError>>,
    buffer: Vec<u8>,
    _event: std::marker::PhantomData<fn() -> E>,
}

/// An open session stream.
pub type SessionStream = EventStream<SessionEvent>;

impl<E: serde::de::DeserializeOwned> EventStream<E> {
    /// A stream over a response body.
    pub(crate) fn new(body: BoxStream<'static, Result<Vec<u8>, RuntimeClientError>>) -> Self {
        Self {
            body,
            buffer: Vec::new(),
            _event: std::marker::PhantomData,
        }
    }

    /// The next item; `None` when the runtime ended the stream.
    pub async fn next(&mut self) -> Option<Result<StreamItem<E>, RuntimeClientError>> {
        loop {
            while let Some(end) = self.buffer.windows(2).position(|w| w == b"\n\n") {
                let block: Vec<u8> = self.buffer.drain(..end + 2).collect();
                if let Some(item) = parse_block(&String::from_utf8_lossy(&block)) {
                    return Some(item);
                }
            }
            match self.body.next().await? {
                Ok(chunk) => self.buffer.extend_from_slice(&chunk),
                Err(e) => return Some(Err(e)),
            }
        }
    }
}

/// One SSE block: a cursor comment, an event, or nothing we use (keep-alives, other comments).
pub(crate) fn parse_block<E: serde::de::DeserializeOwned>(
    block: &str,
) -> Option<Result<StreamItem<E>, RuntimeClientError>> {
    if let Some(start) = block
        .trim()
        .strip_prefix(": cursor ")
        .and_then(|c| c.parse::<i64>().ok())
    {
        return Some(Ok(StreamItem::Cursor(start)));
    }
    let data = block.lines().find_map(|l| l.strip_prefix("data: "))?;
    Some(
        serde_json::from_str(data)
            .map(StreamItem::Event)
            .map_err(|e| RuntimeClientError::Protocol(e.to_string())),
    )
}

impl RuntimeClient {
    /// Opens the session's event stream after event `after` (`-1`: from now). The stream has no
    /// total timeout: it stays open as long as its consumer reads it.
    pub async fn follow_session(
        &self,
        request_id: &str,
        tenant_id: &str,
        session_id: &str,
        after: i64,
    ) -> Result<SessionStream, RuntimeClientError> {
        let token = self.service_token()?;
        let mut last = None;
        let mut answered = None;
        for base in self.rotation() {
            let sent = self
                .stream_http
                .get(format!(
                    "{base}/api/session/{}/stream",
                    encode_segment(session_id)
                ))
                .query(&[("tenant_id", tenant_id), ("after", &after.to_string())])
                .header(REQUEST_ID_HEADER, request_id)
                .bearer_auth(&token)
                .send()
                .await;
            match sent {
                Ok(res) => {
                    answered = Some(res);
                    break;
                }
                // Not reached at all: the next replica serves the same log.
                Err(e) if e.is_connect() => last = Some(e.to_string()),
                Err(e) => return Err(RuntimeClientError::Unavailable(e.to_string())),
            }
        }
        let Some(res) = answered else {
            return Err(RuntimeClientError::Unavailable(
                last.unwrap_or_else(|| "no runtime".into()),
            ));
        };
        if !res.status().is_success() {
            read(Ok(res)).await?;
            return Err(RuntimeClientError::Protocol("stream refused".into()));
        }
        let body = res
            .bytes_stream()
            .map(|chunk| {
                chunk
                    .map(|b| b.to_vec())
                    .map_err(|e| RuntimeClientError::Unavailable(e.to_string()))
            })
            .boxed();
        Ok(SessionStream::new(body))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_cursor_events_and_skips_the_rest() {
        assert_eq!(
            parse_block::<SessionEvent>(": cursor 7\n\n").map(Result::ok),
            Some(Some(StreamItem::Cursor(7)))
        );
        assert!(parse_block::<SessionEvent>(": keep-alive\n\n").is_none());
        let event = r#"id: 3
data: {"event_id":3,"event_type":"STEP_STARTED","execution_id":null,"data":{},"timestamp":"t"}

"#;
        assert!(matches!(
            parse_block::<SessionEvent>(event),
            Some(Ok(StreamItem::Event(e))) if e.event_id == 3
        ));
        assert!(matches!(
            parse_block::<SessionEvent>("data: {oops\n\n"),
            Some(Err(RuntimeClientError::Protocol(_)))
        ));
    }
}
