//! The runtime's tenant event log as the experience plane reads it: the live follow
//! (`GET /api/live/stream`, server-sent events) parsed into [`LiveItem`]s, the resume page
//! (`GET /api/live/events`) and a user's subscriptions. What to do with them (sharing one follow
//! per tenant, filtering, resuming) is the experience plane's business.

use futures_util::stream::BoxStream;
use futures_util::StreamExt as _;
use reqwest::Method;

use crate::http::REQUEST_ID_HEADER;
use crate::live_wire::{Subscription, SubscriptionList, TenantEvent, TenantEventPage};
use crate::runtime_call::{read, RuntimeCall, RuntimeClientError};
use crate::runtime_client::RuntimeClient;

/// One item of a tenant stream.
#[derive(Debug, Clone, PartialEq)]
pub enum LiveItem {
    /// The runtime subscribed; events follow this id.
    Cursor(i64),
    /// An event of the tenant's log.
    Event(TenantEvent),
}

/// An open tenant stream.
pub struct TenantStream {
    body: BoxStream<'static, Result<Vec<u8>, RuntimeClientError>>,
    buffer: Vec<u8>,
}

impl TenantStream {
    /// The next item; `None` when the runtime ended the stream.
    pub async fn next(&mut self) -> Option<Result<LiveItem, RuntimeClientError>> {
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

fn parse_block(block: &str) -> Option<Result<LiveItem, RuntimeClientError>> {
    if let Some(start) = block
        .trim()
        .strip_prefix(": cursor ")
        .and_then(|c| c.parse::<i64>().ok())
    {
        return Some(Ok(LiveItem::Cursor(start)));
    }
    let data = block.lines().find_map(|l| l.strip_prefix("data: "))?;
    Some(
        serde_json::from_str(data)
            .map(LiveItem::Event)
            .map_err(|e| RuntimeClientError::Protocol(e.to_string())),
    )
}

fn decode<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, RuntimeClientError> {
    serde_json::from_slice(body).map_err(|e| RuntimeClientError::Protocol(e.to_string()))
}

impl RuntimeClient {
    /// Opens the tenant's live stream after event `after` (`-1`: from now); no total timeout.
    pub async fn follow_tenant(
        &self,
        request_id: &str,
        tenant_id: &str,
        after: i64,
    ) -> Result<TenantStream, RuntimeClientError> {
        let token = self.service_token()?;
        let mut last = None;
        let mut answered = None;
        for base in self.rotation() {
            let sent = self
                .stream_http
                .get(format!("{base}/api/live/stream"))
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
        Ok(TenantStream {
            body,
            buffer: Vec::new(),
        })
    }

    /// A page of the tenant's log after `after` (at most `limit`), with the retained bounds.
    pub async fn tenant_events(
        &self,
        request_id: &str,
        tenant_id: &str,
        after: i64,
        limit: i64,
    ) -> Result<TenantEventPage, RuntimeClientError> {
        let call = RuntimeCall::read(Method::GET, "/api/live/events".into(), request_id)
            .param("tenant_id", tenant_id)
            .param("after", &after.to_string())
            .param("limit", &limit.to_string());
        decode(&self.send(call).await?.body)
    }

    /// Every subscription of a user (a user holds at most 50).
    pub async fn event_subscriptions(
        &self,
        request_id: &str,
        tenant_id: &str,
        user_id: &str,
    ) -> Result<Vec<Subscription>, RuntimeClientError> {
        let call = RuntimeCall::read(Method::GET, "/api/events/subscriptions".into(), request_id)
            .param("tenant_id", tenant_id)
            .param("user_id", user_id)
            .param("limit", "200");
        let list: SubscriptionList = decode(&self.send(call).await?.body)?;
        Ok(list.items)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_cursor_and_events() {
        assert_eq!(
            parse_block(": cursor 7\n\n").map(Result::ok),
            Some(Some(LiveItem::Cursor(7)))
        );
        assert!(parse_block(": ping\n\n").is_none());
        let block = "id: 3\nevent: x\ndata: {\"event_id\":3,\"event_type\":\"x\",\"audience\":\"tenant\",\"agent_id\":null,\"context_id\":null,\"data\":{},\"created_at\":\"t\"}\n\n";
        assert!(matches!(parse_block(block), Some(Ok(LiveItem::Event(e))) if e.event_id == 3));
    }
}
