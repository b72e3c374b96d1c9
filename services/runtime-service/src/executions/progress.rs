//! How a running execution moves: every status change goes through the explicit transition map
//! (a forbidden one is a `409`, a racing one changes nothing), and every event it emits carries
//! the execution's ids. The runner uses these and nothing else to report progress.

use platform_sdk::agent_wire::{event_types as ev, ExecutionRecord, ExecutionStatus};
use platform_sdk::time_util::now_ms;
use serde_json::{json, Value};

use super::storage as store;
use super::Executions;
use crate::error::RuntimeError;

impl Executions {
    fn with_ids(record: &ExecutionRecord, mut data: Value) -> Value {
        if let Some(map) = data.as_object_mut() {
            map.insert("execution_id".into(), json!(record.execution_id));
            map.insert("conversation_id".into(), json!(record.conversation_id));
            map.insert("agent_id".into(), json!(record.agent_id));
        }
        data
    }

    pub(super) async fn emit(
        &self,
        record: &ExecutionRecord,
        event_type: &str,
        data: Value,
    ) -> Result<(), RuntimeError> {
        self.events
            .append(
                &record.tenant_id,
                &record.session_id,
                Some(&record.execution_id),
                event_type,
                Self::with_ids(record, data),
            )
            .await?;
        Ok(())
    }

    /// Several events in one transaction (fewer commits on the hot path).
    pub(super) async fn emit_all(
        &self,
        record: &ExecutionRecord,
        events: Vec<(&str, Value)>,
    ) -> Result<(), RuntimeError> {
        let events: Vec<(&str, Value)> = events
            .into_iter()
            .map(|(t, d)| (t, Self::with_ids(record, d)))
            .collect();
        self.events
            .append_batch(
                &record.tenant_id,
                &record.session_id,
                Some(&record.execution_id),
                &events,
            )
            .await?;
        Ok(())
    }

    pub(super) async fn set_status(
        &self,
        record: &ExecutionRecord,
        from: ExecutionStatus,
        to: ExecutionStatus,
        error: Option<&str>,
    ) -> Result<bool, RuntimeError> {
        if !from.can_become(to) {
            return Err(RuntimeError::Conflict(format!(
                "{} cannot become {}",
                from.as_str(),
                to.as_str()
            )));
        }
        Ok(store::transition(&self.pool, &record.execution_id, from, to, error, now_ms()).await?)
    }

    pub(super) async fn finish_cancelled(
        &self,
        record: &ExecutionRecord,
        from: ExecutionStatus,
        reason: &str,
    ) -> Result<(), RuntimeError> {
        if self
            .set_status(record, from, ExecutionStatus::Cancelled, None)
            .await?
        {
            self.emit(record, ev::EXECUTION_CANCELLED, json!({"reason": reason}))
                .await?;
        }
        Ok(())
    }

    pub(super) async fn finish_failed(
        &self,
        record: &ExecutionRecord,
        from: ExecutionStatus,
        error: &str,
    ) -> Result<(), RuntimeError> {
        if self
            .set_status(record, from, ExecutionStatus::Failed, Some(error))
            .await?
        {
            self.emit(record, ev::EXECUTION_FAILED, json!({"error": error}))
                .await?;
        }
        Ok(())
    }
}
