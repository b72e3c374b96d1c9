//! The gateway table: every runtime-owned REST endpoint the experience plane exposes.
//!
//! One row = the public method and path pattern, the scope the caller needs, where it goes in
//! the runtime, and how `/openapi.json` describes it. Path parameters (`{id}`) are substituted,
//! percent-encoded, into the runtime path of the same name.

use actix_web::http::Method;

/// Where a row goes in the runtime.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// A read with the service token; the caller's `tenant_id` and `user_id` are added as
    /// query parameters (replacing any the client sent).
    Read {
        /// Runtime path pattern.
        path: &'static str,
    },
    /// A signed intent for `action`; the JSON body of the request is its payload.
    Intent {
        /// Runtime path pattern.
        path: &'static str,
        /// The action the runtime endpoint verifies.
        action: &'static str,
    },
}

impl Target {
    /// The runtime path pattern.
    pub fn path(&self) -> &'static str {
        match self {
            Self::Read { path } | Self::Intent { path, .. } => path,
        }
    }
}

/// How a row is documented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Doc {
    /// One line for `/openapi.json` and `/docs`.
    pub summary: &'static str,
    /// Success status.
    pub status: u16,
    /// Name of the response schema (registered in `crate::openapi`); empty for no body (`204`).
    pub response: &'static str,
    /// Name of the request body schema (intent rows that take one).
    pub request: Option<&'static str>,
    /// Refusals of the runtime beyond the shared plumbing's (e.g. `409` of a state machine),
    /// documented with the error body.
    pub errors: &'static [u16],
    /// Query parameters the runtime reads besides `limit` / `cursor` (filters, windows).
    pub query: &'static [QueryParam],
}

/// A documented query parameter of a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueryParam {
    /// Its name.
    pub name: &'static str,
    /// What it does.
    pub description: &'static str,
    /// The values the runtime accepts, as a regular expression.
    pub pattern: Option<&'static str>,
}

/// One gateway row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Row {
    /// Public method.
    pub method: Verb,
    /// Public path pattern (actix syntax, `{name}` for a parameter).
    pub path: &'static str,
    /// The scope the caller's token must grant (`403 missing_scope` otherwise).
    pub scope: &'static str,
    /// Where it goes.
    pub target: Target,
    /// How it is documented.
    pub doc: Doc,
}

/// The methods a row can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    /// `GET`.
    Get,
    /// `POST`.
    Post,
    /// `PUT`.
    Put,
    /// `PATCH`.
    Patch,
    /// `DELETE`.
    Delete,
}

impl Verb {
    /// As the method actix routes on.
    pub fn method(self) -> Method {
        match self {
            Self::Get => Method::GET,
            Self::Post => Method::POST,
            Self::Put => Method::PUT,
            Self::Patch => Method::PATCH,
            Self::Delete => Method::DELETE,
        }
    }

    /// As the method of the runtime call (the runtime endpoint takes the same method).
    pub fn upstream(self) -> reqwest::Method {
        match self {
            Self::Get => reqwest::Method::GET,
            Self::Post => reqwest::Method::POST,
            Self::Put => reqwest::Method::PUT,
            Self::Patch => reqwest::Method::PATCH,
            Self::Delete => reqwest::Method::DELETE,
        }
    }
}

/// Every row the experience plane serves: one group per capability (`super::rows`).
pub fn rows() -> impl Iterator<Item = &'static Row> {
    super::rows::GROUPS.iter().flat_map(|group| group.iter())
}

/// Legacy path prefixes answered exactly like the canonical prefix they stand for:
/// `(alias, canonical)`. Every row whose path starts with `canonical` is also served (and
/// documented) under `alias` + the rest of its path: SPEC §12's existing UI calls
/// `/api/multi_agent/multi_agent/…` for `/api/multi_agent/…`.
pub const ALIASES: &[(&str, &str)] = &[("/api/multi_agent/multi_agent/", "/api/multi_agent/")];

/// Every public path `row` answers on: its own, then its aliases ([`ALIASES`]).
pub fn public_paths(row: &Row) -> Vec<String> {
    let mut paths = vec![row.path.to_owned()];
    for (alias, canonical) in ALIASES {
        if let Some(rest) = row.path.strip_prefix(canonical) {
            paths.push(format!("{alias}{rest}"));
        }
    }
    paths
}

/// Substitutes `{name}` parameters of `pattern` with `value(name)`, percent-encoded; `None`
/// when a parameter has no value.
pub fn fill<'a>(pattern: &str, value: impl Fn(&str) -> Option<&'a str>) -> Option<String> {
    let mut path = String::with_capacity(pattern.len() + 16);
    for (i, segment) in pattern.split('/').enumerate() {
        if i > 0 {
            path.push('/');
        }
        match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            Some(name) => {
                path.push_str(&platform_sdk::runtime_client::encode_segment(value(name)?))
            }
            None => path.push_str(segment),
        }
    }
    Some(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_and_encodes_parameters() {
        let path = fill("/api/conversations/{id}/messages", |n| {
            (n == "id").then_some("a/b?c")
        });
        assert_eq!(
            path.as_deref(),
            Some("/api/conversations/a%2Fb%3Fc/messages")
        );
        assert_eq!(fill("/api/x/{missing}", |_| None), None);
    }

    #[test]
    fn aliases_double_the_multi_agent_paths_only() {
        let row = rows()
            .find(|r| r.path == "/api/multi_agent/context/{id}")
            .unwrap();
        assert_eq!(
            public_paths(row),
            [
                "/api/multi_agent/context/{id}",
                "/api/multi_agent/multi_agent/context/{id}"
            ]
        );
        let other = rows().find(|r| r.path.starts_with("/api/agents/")).unwrap();
        assert_eq!(public_paths(other), [other.path]);
    }

    #[test]
    fn rows_are_unique_and_scoped() {
        let all: Vec<&Row> = rows().collect();
        for (i, row) in all.iter().enumerate() {
            assert!(
                row.scope.contains(':') || row.scope == "admin",
                "{}",
                row.path
            );
            assert!(all[..i]
                .iter()
                .all(|r| (r.method, r.path) != (row.method, row.path)));
        }
    }
}
