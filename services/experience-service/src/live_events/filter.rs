//! Who sees which tenant event, and how an event is framed: pure functions, shared by the
//! hub's live fan-out and the resume read.
//!
//! Visible: audience `tenant`; `user:<id>` to that user; `admins` to admins and owners;
//! `admins!<id>` to admins and owners but that user (who got a personal copy). Selected:
//! `notification.created` and `EVENTS_LOST` always; anything else only when one of the reader's
//! subscriptions selects it (type, `execution.*`, agents, contexts).

use actix_web::web::Bytes;
use platform_sdk::live_wire::{live_types, Subscription, TenantEvent};

/// Who a stream is for.
#[derive(Debug, Clone)]
pub struct Reader {
    /// The user.
    pub user_id: String,
    /// Admin or owner of the tenant.
    pub admin: bool,
}

impl Reader {
    /// Whether the event's audience includes this reader.
    pub fn sees(&self, audience: &str) -> bool {
        if audience == "tenant" {
            return true;
        }
        if let Some(user) = audience.strip_prefix("user:") {
            return user == self.user_id;
        }
        if !self.admin {
            return false;
        }
        match audience.strip_prefix("admins") {
            Some("") => true,
            Some(rest) => rest.strip_prefix('!').is_some_and(|u| u != self.user_id),
            None => false,
        }
    }

    /// Whether the stream carries `event` for this reader with these subscriptions.
    pub fn wants(&self, subscriptions: Option<&[Subscription]>, event: &TenantEvent) -> bool {
        if !self.sees(&event.audience) {
            return false;
        }
        match event.event_type.as_str() {
            live_types::NOTIFICATION_CREATED | live_types::EVENTS_LOST => true,
            live_types::SUBSCRIPTIONS_CHANGED => false,
            _ => subscriptions
                .unwrap_or_default()
                .iter()
                .any(|s| s.selects(event)),
        }
    }
}

/// An event as one server-sent event: `id:`, `event:`, `data:` (the event as JSON).
pub fn frame(event: &TenantEvent) -> Bytes {
    let data = serde_json::to_string(event).unwrap_or_else(|_| "{}".into());
    Bytes::from(format!(
        "id: {}\nevent: {}\ndata: {}\n\n",
        event.event_id, event.event_type, data
    ))
}

/// `EVENTS_LOST` (framed with `id:` = where the feed continues, so a reconnect resumes there)
/// when `requested` cannot be served from the retained log `oldest..=latest`; the new cursor.
pub fn lost(requested: i64, oldest: Option<i64>, latest: Option<i64>) -> Option<(Bytes, i64)> {
    let latest_id = latest.unwrap_or(0);
    let (resume_after, reason) = match oldest {
        Some(min) if requested < min - 1 => (min - 1, "older_than_log"),
        _ if requested > latest_id => (latest_id, "ahead_of_log"),
        _ => return None,
    };
    let data = serde_json::json!({
        "requested_after": requested,
        "oldest_available_event_id": oldest,
        "latest_event_id": latest_id,
        "resume_after": resume_after,
        "reason": reason,
    });
    let text = format!(
        "id: {resume_after}\nevent: {}\ndata: {data}\n\n",
        live_types::EVENTS_LOST
    );
    Some((Bytes::from(text), resume_after))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(kind: &str, audience: &str, agent: Option<&str>) -> TenantEvent {
        TenantEvent {
            event_id: 1,
            event_type: kind.into(),
            audience: audience.into(),
            agent_id: agent.map(str::to_owned),
            context_id: None,
            data: serde_json::json!({}),
            created_at: "t".into(),
        }
    }

    #[test]
    fn audiences() {
        let member = Reader {
            user_id: "u1".into(),
            admin: false,
        };
        let admin = Reader {
            user_id: "u2".into(),
            admin: true,
        };
        assert!(member.sees("tenant") && admin.sees("tenant"));
        assert!(member.sees("user:u1") && !member.sees("user:u2"));
        assert!(!member.sees("admins") && admin.sees("admins"));
        assert!(admin.sees("admins!u1") && !admin.sees("admins!u2"));
        assert!(!admin.sees("adminsx") && !admin.sees("user:u1"));
    }

    #[test]
    fn subscriptions_select() {
        let r = Reader {
            user_id: "u".into(),
            admin: true,
        };
        let n = event(live_types::NOTIFICATION_CREATED, "user:u", None);
        let v = event(live_types::GOVERNANCE_VIOLATION, "admins", Some("a1"));
        let x = event("execution.completed", "user:u", Some("a2"));
        assert!(r.wants(None, &n) && !r.wants(None, &v) && !r.wants(None, &x));
        let sub = |types: &[&str], agents: Option<&[&str]>| Subscription {
            subscription_id: "s".into(),
            event_types: types.iter().map(|t| (*t).to_owned()).collect(),
            agent_ids: agents.map(|a| a.iter().map(|t| (*t).to_owned()).collect()),
            context_ids: None,
            created_at: "t".into(),
        };
        let subs = [
            sub(&["execution.*"], None),
            sub(&["governance.violation"], Some(&["a9"])),
        ];
        assert!(r.wants(Some(&subs), &x) && !r.wants(Some(&subs), &v));
        assert!(r.wants(Some(&subs), &n));
    }

    #[test]
    fn lost_outside_the_log() {
        assert!(lost(4, Some(5), Some(9)).is_none());
        assert_eq!(lost(2, Some(5), Some(9)).map(|l| l.1), Some(4));
        assert_eq!(lost(12, Some(5), Some(9)).map(|l| l.1), Some(9));
        assert_eq!(lost(3, None, None).map(|l| l.1), Some(0));
        assert!(lost(0, None, None).is_none());
    }
}
