//! Safety answers for executions another replica runs (SPEC §17): a pending safety hook lives in
//! the memory of the replica that owns the execution, but the answer may arrive at any replica
//! (experience calls the runtimes round robin). The receiving replica looks the owner up in SQL
//! and relays the answer over the State Surface's publish/subscribe (Redis); the owner delivers it
//! to its hook and replies whether it was there, so the caller still gets a definite `200` or
//! `404 unknown_hook`. An owner that does not reply in time is gone: its lease expires and a sweep
//! fails the execution, and the answer is refused as unknown.
//!
//! An operator's pause, resume or cancel (SPEC §14) travels the same way: the owner acts and
//! replies whether it did.
//!
//! One channel for the whole deployment; each message names the replica it is for. The embedded
//! default has one process and no relay.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use platform_sdk::agent_wire::SafetyAnswer;
use platform_sdk::operations_wire::ControlAction;
use platform_sdk::state_surface::{Channel, Delivery, StateStore};
use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;

use super::Executions;

/// The channel (the store adds its key prefix).
const CHANNEL: &str = "execution-control";
/// How long the asking replica waits for the owner's reply.
const REPLY_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Message {
    /// Deliver `answer` to the hook of `execution_id`, which `to` runs.
    Answer {
        to: String,
        from: String,
        request_id: String,
        execution_id: String,
        answer: SafetyAnswer,
    },
    /// Run an operator's `action` on `execution_id`, which `to` runs.
    Control {
        to: String,
        from: String,
        request_id: String,
        execution_id: String,
        action: ControlAction,
        reason: Option<String>,
    },
    /// Whether the hook was there and took the answer (or the control was done).
    Reply {
        to: String,
        request_id: String,
        delivered: bool,
    },
}

/// The relay of one replica.
pub struct Relay {
    store: Arc<dyn StateStore>,
    origin: String,
    pending: Mutex<HashMap<String, oneshot::Sender<bool>>>,
}

impl Relay {
    /// Subscribes (before returning, so no reply can be missed) and starts delivering relayed
    /// answers to `executions`' hooks.
    pub async fn start(
        executions: &Arc<Executions>,
        store: Arc<dyn StateStore>,
    ) -> Result<Arc<Self>, platform_sdk::state_surface::StateError> {
        let relay = Arc::new(Self {
            store: store.clone(),
            origin: executions.owner_id().to_owned(),
            pending: Mutex::new(HashMap::new()),
        });
        let channel = Channel::open(store, CHANNEL).await?;
        tokio::spawn(listen(
            Arc::downgrade(executions),
            Arc::downgrade(&relay),
            channel,
        ));
        Ok(relay)
    }

    /// Asks `owner` to deliver `answer` to the hook of `execution_id`; true when it did.
    pub async fn answer(&self, owner: &str, execution_id: &str, answer: SafetyAnswer) -> bool {
        let request_id = uuid::Uuid::new_v4().to_string();
        let message = Message::Answer {
            to: owner.to_owned(),
            from: self.origin.clone(),
            request_id: request_id.clone(),
            execution_id: execution_id.to_owned(),
            answer,
        };
        self.ask(request_id, message).await
    }

    /// Asks `owner` to run an operator's `action` on `execution_id`; true when it did.
    pub async fn control(
        &self,
        owner: &str,
        execution_id: &str,
        action: ControlAction,
        reason: Option<&str>,
    ) -> bool {
        let request_id = uuid::Uuid::new_v4().to_string();
        let message = Message::Control {
            to: owner.to_owned(),
            from: self.origin.clone(),
            request_id: request_id.clone(),
            execution_id: execution_id.to_owned(),
            action,
            reason: reason.map(str::to_owned),
        };
        self.ask(request_id, message).await
    }

    /// Sends `message` and waits for its reply.
    async fn ask(&self, request_id: String, message: Message) -> bool {
        let (tx, rx) = oneshot::channel();
        if let Ok(mut pending) = self.pending.lock() {
            pending.insert(request_id.clone(), tx);
        }
        let delivered = match self.send(&message).await {
            true => matches!(tokio::time::timeout(REPLY_TIMEOUT, rx).await, Ok(Ok(true))),
            false => false,
        };
        if let Ok(mut pending) = self.pending.lock() {
            pending.remove(&request_id);
        }
        delivered
    }

    async fn send(&self, message: &Message) -> bool {
        let Ok(text) = serde_json::to_string(message) else {
            return false;
        };
        match self.store.publish(CHANNEL, &text).await {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!(error = %e, "could not relay a safety answer");
                false
            }
        }
    }

    fn replied(&self, request_id: &str, delivered: bool) {
        let waiting = self
            .pending
            .lock()
            .ok()
            .and_then(|mut p| p.remove(request_id));
        if let Some(tx) = waiting {
            let _ = tx.send(delivered);
        }
    }
}

/// Delivers the messages meant for this replica until the relay is dropped (while the channel
/// is being subscribed again, relayed answers time out and are refused).
async fn listen(executions: Weak<Executions>, relay: Weak<Relay>, mut channel: Channel) {
    loop {
        let Delivery::Message(text) = channel.next().await else {
            continue;
        };
        let (Some(executions), Some(relay)) = (executions.upgrade(), relay.upgrade()) else {
            return;
        };
        match serde_json::from_str::<Message>(&text) {
            Ok(Message::Answer {
                to,
                from,
                request_id,
                execution_id,
                answer,
            }) if to == relay.origin => {
                let delivered = executions.deliver_answer(&execution_id, answer);
                let reply = Message::Reply {
                    to: from,
                    request_id,
                    delivered,
                };
                relay.send(&reply).await;
            }
            Ok(Message::Control {
                to,
                from,
                request_id,
                execution_id,
                action,
                reason,
            }) if to == relay.origin => {
                // Off the listening loop: a control waits for the runner's write slot.
                tokio::spawn(async move {
                    let done = executions
                        .control_here(&execution_id, action, reason.as_deref())
                        .await;
                    let delivered = match done {
                        Ok(done) => done,
                        Err(e) => {
                            tracing::warn!(error = %e, %execution_id, "a relayed control failed");
                            false
                        }
                    };
                    let reply = Message::Reply {
                        to: from,
                        request_id,
                        delivered,
                    };
                    relay.send(&reply).await;
                });
            }
            Ok(Message::Reply {
                to,
                request_id,
                delivered,
            }) if to == relay.origin => relay.replied(&request_id, delivered),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "dropped an unreadable control message"),
        }
    }
}
