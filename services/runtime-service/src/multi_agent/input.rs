//! Checking request bodies of multi-agent contexts, naming the wrong field (`422`).

use platform_sdk::multi_agent_wire::{ContextPolicies, MessageBody};
use serde_json::Value;
use sqlx::AnyPool;

use crate::error::RuntimeError;

/// Collaboration models (SPEC §12).
pub const MODELS: [&str; 4] = ["shared_context", "sequential", "parallel", "hierarchical"];
/// Most agents in a context.
pub const MAX_AGENTS: usize = 50;
/// Longest message content, characters.
pub const MAX_CONTENT_CHARS: usize = 8_000;
/// Largest metadata or persisted object, serialized bytes.
pub const MAX_OBJECT_BYTES: usize = 64 * 1024;

/// A trimmed name of 1..=200 characters.
pub fn name(raw: &str) -> Result<String, RuntimeError> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > 200 || name.contains('\0') {
        return Err(RuntimeError::invalid("name", "must be 1..=200 characters"));
    }
    Ok(name.to_owned())
}

/// A collaboration model.
pub fn model(raw: &str) -> Result<String, RuntimeError> {
    MODELS
        .contains(&raw)
        .then(|| raw.to_owned())
        .ok_or_else(|| {
            RuntimeError::invalid(
                "collaboration_model",
                "must be shared_context, sequential, parallel or hierarchical",
            )
        })
}

/// Sane policies.
pub fn policies(p: ContextPolicies) -> Result<ContextPolicies, RuntimeError> {
    if !p.governance_threshold.is_finite() || !(0.0..=1.0).contains(&p.governance_threshold) {
        return Err(RuntimeError::invalid(
            "policies.governance_threshold",
            "must be a number from 0 to 1",
        ));
    }
    if p.max_response_time_ms
        .is_some_and(|ms| !(1..=600_000).contains(&ms))
    {
        return Err(RuntimeError::invalid(
            "policies.max_response_time_ms",
            "must be 1..=600000",
        ));
    }
    Ok(p)
}

/// A JSON object of at most [`MAX_OBJECT_BYTES`] (`{}` when absent).
pub fn object(field: &'static str, value: Option<Value>) -> Result<Value, RuntimeError> {
    let value = value.unwrap_or_else(|| Value::Object(Default::default()));
    if !value.is_object() {
        return Err(RuntimeError::invalid(field, "must be a JSON object"));
    }
    if value.to_string().len() > MAX_OBJECT_BYTES {
        return Err(RuntimeError::invalid(field, "must be at most 64 KiB"));
    }
    Ok(value)
}

/// Non-empty, unique ids of at most 200 characters each.
pub fn ids(field: &'static str, ids: &[String]) -> Result<(), RuntimeError> {
    if ids.is_empty() || ids.len() > MAX_AGENTS {
        return Err(RuntimeError::invalid(
            field,
            format!("must list 1..={MAX_AGENTS} agents"),
        ));
    }
    for (i, id) in ids.iter().enumerate() {
        if ids[..i].contains(id) {
            return Err(RuntimeError::invalid(field, format!("lists `{id}` twice")));
        }
    }
    Ok(())
}

/// Every id is in the tenant's catalog: a builtin agent or one of its active deployed wrappers.
pub async fn in_catalog(
    pool: &AnyPool,
    tenant_id: &str,
    ids: &[String],
) -> Result<(), RuntimeError> {
    for id in ids {
        if crate::agents::known::is_builtin(id) {
            continue;
        }
        let known = match crate::wrappers::deployed_agent(pool, tenant_id, id).await {
            Ok(_) => Ok(()),
            Err(RuntimeError::NotFound(_)) => Err("is not in the agent catalog".to_owned()),
            Err(RuntimeError::AgentUnavailable { status, .. }) => {
                Err(format!("is {status}; only an active agent can take part"))
            }
            Err(other) => return Err(other),
        };
        if let Err(why) = known {
            let shown: String = id.chars().take(200).collect();
            return Err(RuntimeError::invalid(
                "agent_ids",
                format!("`{shown}` {why}"),
            ));
        }
    }
    Ok(())
}

/// A message body with bounded fields.
pub fn message(body: &MessageBody) -> Result<(), RuntimeError> {
    if body
        .kind
        .as_deref()
        .is_some_and(|t| t.chars().count() > 100)
    {
        return Err(RuntimeError::invalid(
            "message.type",
            "must be at most 100 characters",
        ));
    }
    if body
        .content
        .as_deref()
        .is_some_and(|c| c.chars().count() > MAX_CONTENT_CHARS || c.contains('\0'))
    {
        return Err(RuntimeError::invalid(
            "message.content",
            format!("must be at most {MAX_CONTENT_CHARS} characters"),
        ));
    }
    if body
        .task_id
        .as_deref()
        .is_some_and(|t| t.chars().count() > 200)
    {
        return Err(RuntimeError::invalid(
            "message.task_id",
            "must be at most 200 characters",
        ));
    }
    Ok(())
}

/// `low`, `normal` (default) or `high`.
pub fn priority(raw: Option<&str>) -> Result<String, RuntimeError> {
    match raw.unwrap_or("normal") {
        p @ ("low" | "normal" | "high") => Ok(p.to_owned()),
        _ => Err(RuntimeError::invalid(
            "priority",
            "must be low, normal or high",
        )),
    }
}
