//! A user's event subscriptions: which live events their stream carries besides
//! `notification.created` (see docs/adr/0025). Each change publishes `subscriptions.changed` to
//! the user with the whole new list, in the same transaction, so every experience replica
//! streaming to that user reloads its filters from the event itself (no re-read, no poll).

use platform_sdk::live_wire::{live_types, SubscribeRequest, Subscription, SubscriptionList};
use platform_sdk::page::{start_after, Cursor, PageRequest};
use platform_sdk::time_util::{now_ms, rfc3339_ms};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row as _};

use super::{user_audience, Live, LiveEvent};
use crate::error::RuntimeError;

/// Most subscriptions one user may hold.
pub const MAX_PER_USER: i64 = 50;

fn row(r: &AnyRow) -> Result<(Subscription, i64), sqlx::Error> {
    let list = |i: usize| -> Result<Option<Vec<String>>, sqlx::Error> {
        let text: Option<String> = r.try_get(i)?;
        Ok(text.and_then(|t| serde_json::from_str(&t).ok()))
    };
    let created: i64 = r.try_get(4)?;
    Ok((
        Subscription {
            subscription_id: r.try_get(0)?,
            event_types: list(1)?.unwrap_or_default(),
            agent_ids: list(2)?,
            context_ids: list(3)?,
            created_at: rfc3339_ms(created),
        },
        created,
    ))
}

const COLUMNS: &str = "id, event_types, agent_ids, context_ids, created_at";

/// Checks a subscription request: known types (or `execution.*`), bounded id lists.
pub fn validate(request: &SubscribeRequest) -> Result<(), RuntimeError> {
    let types = &request.event_types;
    if types.is_empty() || types.len() > 20 {
        return Err(RuntimeError::invalid(
            "event_types",
            "must hold 1 to 20 event types",
        ));
    }
    if let Some(bad) = types
        .iter()
        .find(|t| *t != "execution.*" && !live_types::SUBSCRIBABLE.contains(&t.as_str()))
    {
        return Err(RuntimeError::invalid(
            "event_types",
            format!(
                "unknown event type `{}`",
                bad.chars().take(100).collect::<String>()
            ),
        ));
    }
    for (field, ids) in [
        ("agent_ids", &request.agent_ids),
        ("context_ids", &request.context_ids),
    ] {
        if let Some(ids) = ids {
            if ids.is_empty() || ids.len() > 50 || ids.iter().any(|i| i.is_empty() || i.len() > 200)
            {
                return Err(RuntimeError::invalid(
                    field,
                    "must hold 1 to 50 ids of 1 to 200 characters",
                ));
            }
        }
    }
    Ok(())
}

async fn all_of(
    conn: &mut AnyConnection,
    tenant_id: &str,
    user_id: &str,
) -> Result<Vec<Subscription>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM event_subscriptions WHERE tenant_id = $1 AND user_id = $2 \
         ORDER BY created_at DESC, id DESC"
    ))
    .bind(tenant_id)
    .bind(user_id)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| row(r).map(|(s, _)| s))
    .collect()
}

/// Publishes the user's whole list as `subscriptions.changed`, on the caller's transaction.
async fn announce(
    live: &Live,
    conn: &mut AnyConnection,
    tenant_id: &str,
    user_id: &str,
) -> Result<(), sqlx::Error> {
    let list = all_of(conn, tenant_id, user_id).await?;
    let event = LiveEvent {
        tenant_id,
        event_type: live_types::SUBSCRIPTIONS_CHANGED,
        audience: user_audience(user_id),
        agent_id: None,
        context_id: None,
        data: serde_json::json!({ "subscriptions": list }),
    };
    live.publish_in(conn, event).await.map(|_| ())
}

/// Stores a subscription of the user and announces the new list.
pub async fn create(
    live: &Live,
    tenant_id: &str,
    user_id: &str,
    request: &SubscribeRequest,
) -> Result<Subscription, RuntimeError> {
    validate(request)?;
    let id = format!("sub_{}", uuid::Uuid::new_v4().simple());
    let now = now_ms();
    let json = |v: &Option<Vec<String>>| v.as_ref().map(|v| serde_json::json!(v).to_string());
    let mut tx = live.pool().begin().await?;
    sqlx::query(
        "INSERT INTO event_subscriptions (id, tenant_id, user_id, event_types, agent_ids, context_ids, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&id)
    .bind(tenant_id)
    .bind(user_id)
    .bind(serde_json::json!(request.event_types).to_string())
    .bind(json(&request.agent_ids))
    .bind(json(&request.context_ids))
    .bind(now)
    .execute(&mut *tx)
    .await?;
    // Counted after the insert: on SQLite a transaction must start with its write.
    let held: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM event_subscriptions WHERE tenant_id = $1 AND user_id = $2",
    )
    .bind(tenant_id)
    .bind(user_id)
    .fetch_one(&mut *tx)
    .await?;
    if held > MAX_PER_USER {
        return Err(RuntimeError::invalid(
            "event_types",
            format!("a user holds at most {MAX_PER_USER} subscriptions"),
        ));
    }
    announce(live, &mut tx, tenant_id, user_id).await?;
    tx.commit().await?;
    live.wake(tenant_id);
    Ok(Subscription {
        subscription_id: id,
        event_types: request.event_types.clone(),
        agent_ids: request.agent_ids.clone(),
        context_ids: request.context_ids.clone(),
        created_at: rfc3339_ms(now),
    })
}

/// Deletes one of the user's subscriptions (`404` when it is not theirs) and announces the list.
pub async fn delete(
    live: &Live,
    tenant_id: &str,
    user_id: &str,
    id: &str,
) -> Result<(), RuntimeError> {
    let mut tx = live.pool().begin().await?;
    let gone = sqlx::query(
        "DELETE FROM event_subscriptions WHERE id = $1 AND tenant_id = $2 AND user_id = $3",
    )
    .bind(id)
    .bind(tenant_id)
    .bind(user_id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if gone == 0 {
        return Err(RuntimeError::NotFound("subscription"));
    }
    announce(live, &mut tx, tenant_id, user_id).await?;
    tx.commit().await?;
    live.wake(tenant_id);
    Ok(())
}

/// A page of the user's subscriptions, newest first.
pub async fn list(
    live: &Live,
    tenant_id: &str,
    user_id: &str,
    page: &PageRequest,
) -> Result<SubscriptionList, RuntimeError> {
    let (key, after_id) = start_after(page.after.as_ref());
    let mut rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM event_subscriptions WHERE tenant_id = $1 AND user_id = $2 \
         AND (created_at < $3 OR (created_at = $3 AND id < $4)) \
         ORDER BY created_at DESC, id DESC LIMIT $5"
    ))
    .bind(tenant_id)
    .bind(user_id)
    .bind(key)
    .bind(after_id)
    .bind(page.fetch())
    .fetch_all(live.pool())
    .await?
    .iter()
    .map(row)
    .collect::<Result<Vec<_>, _>>()?;
    let next_cursor = page.finish(&mut rows, |(s, created)| Cursor {
        key: *created,
        id: s.subscription_id.clone(),
    });
    Ok(SubscriptionList {
        items: rows.into_iter().map(|(s, _)| s).collect(),
        next_cursor,
    })
}
