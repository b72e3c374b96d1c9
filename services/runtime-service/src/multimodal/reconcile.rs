//! Requests whose run was lost: an execution ended by code that does not know about requests (a
//! replica's lease sweep, a shutdown's release, a cancel through the executions API) leaves its
//! request `processing`. Every half lease (and at start) such requests are moved to `failed`, with
//! the execution's error, or `cancelled`, with their result (docs/adr/0022-multimodal.md).

use std::sync::Arc;
use std::time::Duration;

use platform_sdk::multimodal_wire::RequestState;
use platform_sdk::time_util::now_ms;
use serde_json::json;

use super::service::Multimodal;
use super::storage::{self as store, Ending, Move};
use crate::error::RuntimeError;

impl Multimodal {
    /// Settles processing requests whose execution ended without them (its replica died or
    /// stopped, or it was cancelled through the executions API); returns how many.
    pub async fn reconcile(&self) -> Result<usize, RuntimeError> {
        let mut settled = 0;
        for orphan in store::orphans(&self.pool).await? {
            let (state, error) = match orphan.status.as_str() {
                "cancelled" => (RequestState::Cancelled, orphan.error),
                _ => (
                    RequestState::Failed,
                    Some(orphan.error.unwrap_or_else(|| {
                        "the run ended without recording its result".to_owned()
                    })),
                ),
            };
            let now = now_ms();
            let mut tx = self.pool.begin().await?;
            let moved = store::move_request(
                &mut *tx,
                &Move {
                    tenant_id: &orphan.tenant_id,
                    id: &orphan.id,
                    from: RequestState::Processing,
                    to: state,
                    run: None,
                    error: error.as_deref(),
                    now,
                },
            )
            .await?;
            if moved {
                if let Some(result_id) = &orphan.result_id {
                    let ending = Ending {
                        state,
                        output_text: None,
                        artifact: None,
                        output_data: &json!({}),
                        now,
                    };
                    store::finish_result(&mut *tx, result_id, &ending).await?;
                }
                settled += 1;
            }
            tx.commit().await?;
            if let Some(cancel) = self
                .running
                .lock()
                .ok()
                .and_then(|r| r.get(&orphan.id).cloned())
            {
                let _ = cancel.send(true);
            }
        }
        Ok(settled)
    }

    /// Runs [`Self::reconcile`] now and every half lease until the process ends.
    pub fn reconcile_forever(self: &Arc<Self>) {
        let every = (self.lease / 2).max(Duration::from_millis(100));
        let this = self.clone();
        tokio::spawn(async move {
            loop {
                match this.reconcile().await {
                    Ok(0) => {}
                    Ok(n) => {
                        tracing::warn!(count = n, "settled multimodal requests whose run was lost")
                    }
                    Err(e) => tracing::warn!(error = %e, "could not settle lost multimodal runs"),
                }
                tokio::time::sleep(every).await;
            }
        });
    }
}
