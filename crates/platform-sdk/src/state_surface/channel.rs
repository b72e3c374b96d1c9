//! A channel read for as long as a replica runs: [`Channel`] subscribes again (with backoff)
//! whenever its subscription ends — Redis restarted, connection lost — and says so, because
//! whatever was published in between is gone and the reader may have to catch up from durable
//! storage.

use std::sync::Arc;
use std::time::Duration;

use super::{StateError, StateStore, Subscription};

/// First wait after a failed subscription; doubles up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// What [`Channel::next`] hands out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// A published message.
    Message(String),
    /// A new subscription is in place; messages published while there was none are lost.
    Resubscribed,
}

/// One channel of a [`StateStore`], subscribed again after every loss.
pub struct Channel {
    store: Arc<dyn StateStore>,
    name: &'static str,
    subscription: Option<Subscription>,
}

impl Channel {
    /// Subscribes now (messages published after this returns are delivered).
    pub async fn open(store: Arc<dyn StateStore>, name: &'static str) -> Result<Self, StateError> {
        let subscription = store.subscribe(name).await?;
        Ok(Self {
            store,
            name,
            subscription: Some(subscription),
        })
    }

    /// Subscribes at the first [`Channel::next`] (which then yields [`Delivery::Resubscribed`]).
    pub fn later(store: Arc<dyn StateStore>, name: &'static str) -> Self {
        Self {
            store,
            name,
            subscription: None,
        }
    }

    /// The next message; when the subscription has ended, subscribes again (retrying with
    /// backoff for as long as it takes) and yields [`Delivery::Resubscribed`].
    pub async fn next(&mut self) -> Delivery {
        if let Some(subscription) = &mut self.subscription {
            if let Some(message) = subscription.next().await {
                return Delivery::Message(message);
            }
            tracing::warn!(channel = self.name, "subscription ended; subscribing again");
        }
        let mut backoff = FIRST_BACKOFF;
        loop {
            match self.store.subscribe(self.name).await {
                Ok(subscription) => {
                    self.subscription = Some(subscription);
                    return Delivery::Resubscribed;
                }
                Err(e) => {
                    tracing::warn!(channel = self.name, error = %e, "could not subscribe; retrying");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
        }
    }
}
