//! The runtime's tenant event log as the experience plane reads it: the live follow
//! (`GET /api/live/stream`, server-sent events) parsed into [`LiveItem`]s, the resume page
//! (`GET /api/live/events`) and a user's subscriptions. What to do with them (sharing one follow
//! per tenant, filtering, resuming) is the experience plane's business.

use futures_util::StreamExt as _;
use reqwest::Method;

use crate::http::REQUEST_ID_HEADER;
use crate::live_wire::{Subscription, SubscriptionList, TenantEvent, TenantEventPage};
use crate::runtime_call::{read, RuntimeCall, RuntimeClientError};
use crate::runtime_client::RuntimeClient;
use crate::runtime_stream::{EventStream, StreamItem};

/// One item of a tenant stream.
pub type LiveItem = StreamItem<TenantEvent>;

/// An open tenant stream.
pub type TenantStream = EventStream<TenantEvent>;

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
        Ok(TenantStream::new(body))
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
    use crate::runtime_stream::parse_block;

    #[test]
    fn parses_cursor_and_events() {
        assert_eq!(
            parse_block::<TenantEvent>(": cursor 7\n\n").map(Result::ok),
            Some(Some(LiveItem::Cursor(7)))
        );
        assert!(parse_block::<TenantEvent>(": ping\n\n").is_none());
        let block = "id: 3\nevent: x\ndata: {\"event_id\":3,\"event_type\":\"x\",\"audience\":\"tenant\",\"agent_id\":null,\"context_id\":null,\"data\":{},\"created_at\":\"t\"}\n\n";
        assert!(
            matches!(parse_block::<TenantEvent>(block), Some(Ok(LiveItem::Event(e))) if e.event_id == 3)
        );
    }
}
