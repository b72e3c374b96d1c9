//! The hub's query (SPEC §14), parsed in one place, each rule on its own:
//! - `include`: absent → every kind; `include=` → none; an unknown item → `400` naming every
//!   unknown item, sorted;
//! - `since`: RFC 3339 (default now − 24 h); invalid → `400`;
//! - `status`: absent (or empty) → the live states of each kind; otherwise a comma-separated
//!   list of states, an unknown one → `400` naming the unknown ones, sorted;
//! - `limit`: an integer, clamped to 1..=100 (default 50), not refused when out of range.

use std::collections::BTreeSet;

use platform_sdk::time_util::parse_rfc3339_ms;
use serde::Deserialize;

use super::sources::{is_state, Kind};
use crate::error::RuntimeError;

/// The default window: the last 24 hours.
pub const DEFAULT_WINDOW_MS: i64 = 24 * 3600 * 1000;
/// Most processes one hub read answers.
pub const MAX_LIMIT: i64 = 100;
/// Processes answered when `limit` is absent.
pub const DEFAULT_LIMIT: i64 = 50;

/// `GET /api/operations/hub` query parameters.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct HubQuery {
    /// Tenant (the gateway adds the caller's).
    #[param(format = Uuid)]
    pub tenant_id: String,
    /// Comma-separated kinds: `executions`, `multimodal`, `deployments`, `contexts` (absent:
    /// all; empty: none).
    pub include: Option<String>,
    /// Processes started at or after this instant (RFC 3339; default now − 24 h).
    #[param(format = DateTime)]
    pub since: Option<String>,
    /// Comma-separated states (absent: the live states of each kind).
    pub status: Option<String>,
    /// How many processes at most, clamped to 1..=100 (default 50).
    #[param(value_type = Option<i64>)]
    pub limit: Option<String>,
}

/// What the hub reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubFilter {
    /// The kinds to read.
    pub kinds: BTreeSet<Kind>,
    /// Started at or after (epoch ms).
    pub since: i64,
    /// The states asked for (`None`: each kind's live states).
    pub statuses: Option<Vec<String>>,
    /// Most processes answered.
    pub limit: i64,
}

impl HubFilter {
    /// The states to read of `kind`: the asked ones it has, or its live ones.
    pub fn states_of(&self, kind: Kind) -> Vec<&str> {
        match &self.statuses {
            None => kind.live().to_vec(),
            Some(asked) => asked
                .iter()
                .map(String::as_str)
                .filter(|s| kind.states().contains(s))
                .collect(),
        }
    }
}

/// The items of a comma-separated list (blank items dropped).
fn items(text: &str) -> impl Iterator<Item = &str> {
    text.split(',').map(str::trim).filter(|s| !s.is_empty())
}

/// `400` naming the unknown `items` of `parameter`, sorted.
fn unknown(parameter: &'static str, items: BTreeSet<&str>) -> RuntimeError {
    let names: Vec<&str> = items.into_iter().collect();
    RuntimeError::InvalidQueryValue {
        parameter,
        message: format!("names unknown items: {}", names.join(", ")),
    }
}

/// An integer (of any size) clamped to 1..=[`MAX_LIMIT`].
fn clamp_limit(text: &str) -> Result<i64, RuntimeError> {
    let negative = text.starts_with('-');
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(RuntimeError::InvalidQuery {
            parameter: "limit",
            message: "must be an integer",
        });
    }
    if negative {
        return Ok(1);
    }
    Ok(digits
        .parse::<i64>()
        .map_or(MAX_LIMIT, |n| n.clamp(1, MAX_LIMIT)))
}

/// Parses the query at `now` (epoch ms).
pub fn parse(q: &HubQuery, now: i64) -> Result<HubFilter, RuntimeError> {
    let kinds = match q.include.as_deref() {
        None => Kind::ALL.into_iter().collect(),
        Some(text) => {
            let bad: BTreeSet<&str> = items(text)
                .filter(|i| Kind::from_include(i).is_none())
                .collect();
            if !bad.is_empty() {
                return Err(unknown("include", bad));
            }
            items(text).filter_map(Kind::from_include).collect()
        }
    };
    let since = match q.since.as_deref() {
        None => now - DEFAULT_WINDOW_MS,
        Some(text) => parse_rfc3339_ms(text).ok_or(RuntimeError::InvalidQuery {
            parameter: "since",
            message: "must be an RFC 3339 date-time",
        })?,
    };
    let statuses = match q.status.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(text) => {
            let bad: BTreeSet<&str> = items(text).filter(|s| !is_state(s)).collect();
            if !bad.is_empty() {
                return Err(unknown("status", bad));
            }
            let asked: BTreeSet<&str> = items(text).collect();
            Some(asked.into_iter().map(str::to_owned).collect())
        }
    };
    let limit = match q.limit.as_deref() {
        None => DEFAULT_LIMIT,
        Some(text) => clamp_limit(text.trim())?,
    };
    Ok(HubFilter {
        kinds,
        since,
        statuses,
        limit,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000_000;

    fn query(include: Option<&str>, status: Option<&str>, limit: Option<&str>) -> HubQuery {
        HubQuery {
            tenant_id: "t".into(),
            include: include.map(str::to_owned),
            since: None,
            status: status.map(str::to_owned),
            limit: limit.map(str::to_owned),
        }
    }

    fn message(e: RuntimeError) -> String {
        assert_eq!(e.code(), "invalid_query");
        e.to_string()
    }

    #[test]
    fn include_absent_is_all_empty_is_none() {
        let all = parse(&query(None, None, None), NOW).unwrap();
        assert_eq!(all.kinds.len(), 4);
        assert!(parse(&query(Some(""), None, None), NOW)
            .unwrap()
            .kinds
            .is_empty());
        let two = parse(&query(Some("deployments,executions"), None, None), NOW).unwrap();
        assert_eq!(
            two.kinds.into_iter().collect::<Vec<_>>(),
            vec![Kind::Executions, Kind::Deployments]
        );
    }

    #[test]
    fn unknown_items_are_named_sorted() {
        let e = parse(&query(Some("zeta,executions,alpha,zeta"), None, None), NOW).unwrap_err();
        assert_eq!(
            message(e),
            "query parameter `include` names unknown items: alpha, zeta"
        );
        let e = parse(&query(None, Some("running,active,bogus"), None), NOW).unwrap_err();
        assert_eq!(
            message(e),
            "query parameter `status` names unknown items: bogus, running"
        );
    }

    #[test]
    fn since_defaults_to_a_day_and_must_be_rfc3339() {
        assert_eq!(
            parse(&query(None, None, None), NOW).unwrap().since,
            NOW - DEFAULT_WINDOW_MS
        );
        let mut q = query(None, None, None);
        q.since = Some("2026-12-01T00:00:00Z".into());
        assert_eq!(parse(&q, NOW).unwrap().since, 1_796_083_200_000);
        q.since = Some("yesterday".into());
        assert_eq!(
            message(parse(&q, NOW).unwrap_err()),
            "query parameter `since` must be an RFC 3339 date-time"
        );
    }

    #[test]
    fn limit_is_clamped_not_refused() {
        let limit = |l: &str| parse(&query(None, None, Some(l)), NOW).unwrap().limit;
        assert_eq!(limit("0"), 1);
        assert_eq!(limit("-7"), 1);
        assert_eq!(limit("1000"), 100);
        assert_eq!(limit("99999999999999999999999999999999999999999999"), 100);
        assert_eq!(limit("+3"), 3);
        assert_eq!(limit("7"), 7);
        assert_eq!(parse(&query(None, None, None), NOW).unwrap().limit, 50);
        assert!(parse(&query(None, None, Some("ten")), NOW).is_err());
    }

    #[test]
    fn status_absent_means_live_states() {
        let f = parse(&query(None, None, None), NOW).unwrap();
        assert_eq!(
            f.states_of(Kind::Executions),
            vec!["created", "executing", "awaiting_approval", "paused"]
        );
        let f = parse(&query(None, Some("completed,paused"), None), NOW).unwrap();
        assert_eq!(f.states_of(Kind::Executions), vec!["completed", "paused"]);
        assert_eq!(f.states_of(Kind::Deployments), vec!["paused"]);
        assert_eq!(f.states_of(Kind::Multimodal), vec!["completed"]);
        let f = parse(&query(None, Some("retired"), None), NOW).unwrap();
        assert!(f.states_of(Kind::Executions).is_empty());
        assert_eq!(f.states_of(Kind::Deployments), vec!["retired"]);
    }
}
