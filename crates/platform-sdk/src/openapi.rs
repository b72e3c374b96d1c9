//! Makes an OpenAPI document tell the truth about what the shared plumbing answers.
//!
//! Handlers document their own successes and domain failures; the plumbing every operation goes
//! through answers more: the JSON extractor (`400 malformed_json`, `413`, `415`, `422
//! validation_failed`), the query and path mappings (`400 invalid_query`, `404`), the NUL guard
//! (docs/adr/0012), the auth extractors (`401`, `403`), and the backends (`503`). [`complete`]
//! adds those statuses — each with the one error body schema — to every operation of a
//! generated document, so an operation added anywhere is documented truthfully without anyone
//! remembering to. It also states in the schemas the rule the JSON extractor enforces on every
//! string (no U+0000), and [`allowed_methods`] gives the `Allow` header of a `405`.
//!
//! It works on the serialised document (a `serde_json::Value`), once at start-up.

use std::collections::HashMap;

use serde_json::{json, Map, Value};

/// The methods an OpenAPI path item can hold.
const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// The schema of "any JSON value without U+0000 in a string or a key": what an object accepts
/// beyond its declared properties (the body check refuses NUL there too).
pub const NO_NUL_VALUE: &str = "JsonWithoutNul";

fn no_nul_value() -> Value {
    let any = json!({"$ref": format!("#/components/schemas/{NO_NUL_VALUE}")});
    json!({
        "description": "Any JSON value; no string or key holds U+0000.",
        "anyOf": [
            {"type": "string", "pattern": NO_NUL_PATTERN},
            {"type": ["number", "boolean", "null"]},
            {"type": "array", "items": any},
            {"type": "object", "propertyNames": {"pattern": NO_NUL_PATTERN}, "additionalProperties": any}
        ]
    })
}

/// The pattern stating that a string holds no U+0000.
pub const NO_NUL_PATTERN: &str = "^[^\\u0000]*$";

/// What the plumbing answers, by status, with the codes it uses.
fn plumbing_description(status: &str) -> &'static str {
    match status {
        "400" => "malformed_json (the body is not JSON) or invalid_query (a query parameter is malformed)",
        "401" => "unauthenticated: a valid credential is required",
        "403" => "missing_scope / forbidden / invalid_intent: the credential does not allow this",
        "404" => "not_found: no such resource for this caller",
        "413" => "payload_too_large",
        "415" => "unsupported_media_type: the body must be application/json",
        "422" => "validation_failed: a field is invalid (`fields` names it)",
        "503" => "a backend (runtime, database or state store) is unavailable; retry shortly",
        _ => "error",
    }
}

fn error_content() -> Value {
    json!({"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}})
}

/// Adds the plumbing's statuses to every operation and the no-NUL rule to every free string.
pub fn complete(mut doc: Value) -> Value {
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for (path, item) in paths.iter_mut() {
            let Some(item) = item.as_object_mut() else {
                continue;
            };
            let shared_params = item.get("parameters").cloned();
            for method in METHODS {
                if let Some(op) = item.get_mut(method).and_then(Value::as_object_mut) {
                    complete_operation(path, op, shared_params.as_ref());
                }
            }
        }
    }
    if let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        for schema in schemas.values_mut() {
            no_nul(schema);
        }
        schemas.insert(NO_NUL_VALUE.into(), no_nul_value());
    }
    doc
}

fn complete_operation(path: &str, op: &mut Map<String, Value>, shared: Option<&Value>) {
    if path.starts_with("/health/") {
        return;
    }
    let params: Vec<Value> = op
        .get("parameters")
        .and_then(Value::as_array)
        .into_iter()
        .chain(shared.and_then(Value::as_array))
        .flatten()
        .cloned()
        .collect();
    let has_body = op.contains_key("requestBody");
    let has_path_param = path.contains('{');
    let secured = op
        .get("security")
        .and_then(Value::as_array)
        .is_some_and(|s| {
            s.iter()
                .any(|r| r.as_object().is_some_and(|r| !r.is_empty()))
        });
    let mut statuses = vec!["400"];
    if has_body {
        statuses.extend(["413", "415", "422"]);
    }
    if !params.is_empty() {
        statuses.push("422");
    }
    if has_path_param {
        statuses.push("404");
    }
    if secured {
        statuses.extend(["401", "403"]);
    }
    // Every operation but the health checks (returned above) reaches a backend: `/api/…` and
    // the governance loop's `/loop/execute` alike.
    statuses.push("503");
    let responses = op
        .entry("responses")
        .or_insert_with(|| json!({}))
        .as_object_mut();
    let Some(responses) = responses else {
        return;
    };
    for status in statuses {
        responses
            .entry(status)
            .or_insert_with(|| json!({"description": plumbing_description(status)}));
    }
    for (status, response) in responses.iter_mut() {
        let is_error = status.starts_with('4') || status.starts_with('5');
        if let (true, Some(response)) = (is_error, response.as_object_mut()) {
            if !response.contains_key("content") && !response.contains_key("$ref") {
                response.insert("content".into(), error_content());
            }
        }
    }
    if let Some(list) = op.get_mut("parameters").and_then(Value::as_array_mut) {
        for param in list {
            if let Some(schema) = param.get_mut("schema") {
                no_nul(schema);
            } else if let Some(param) = param.as_object_mut() {
                param.insert(
                    "schema".into(),
                    json!({"type": "string", "pattern": NO_NUL_PATTERN}),
                );
            }
        }
    }
}

/// Adds [`NO_NUL_PATTERN`] to every string schema that has no format, enum or pattern of its own.
fn no_nul(schema: &mut Value) {
    match schema {
        Value::Object(map) => {
            let is_string = match map.get("type") {
                Some(Value::String(t)) => t == "string",
                Some(Value::Array(ts)) => ts.iter().any(|t| t == "string"),
                _ => false,
            };
            let is_object = map.get("type").is_some_and(|t| t == "object");
            if is_object && !map.contains_key("additionalProperties") {
                map.insert("propertyNames".into(), json!({"pattern": NO_NUL_PATTERN}));
                map.insert(
                    "additionalProperties".into(),
                    json!({"$ref": format!("#/components/schemas/{NO_NUL_VALUE}")}),
                );
            }
            if is_string
                && !map.contains_key("format")
                && !map.contains_key("enum")
                && !map.contains_key("pattern")
                && !map.contains_key("const")
            {
                map.insert("pattern".into(), Value::String(NO_NUL_PATTERN.into()));
            }
            for value in map.values_mut() {
                no_nul(value);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(no_nul),
        _ => {}
    }
}

/// The methods each path pattern of the document answers, upper-case and comma-separated, for
/// the `Allow` header of a `405`.
pub fn allowed_methods(doc: &Value) -> HashMap<String, String> {
    doc.get("paths")
        .and_then(Value::as_object)
        .map(|paths| {
            paths
                .iter()
                .map(|(path, item)| {
                    let methods: Vec<String> = METHODS
                        .iter()
                        .filter(|m| item.get(**m).is_some())
                        .map(|m| m.to_ascii_uppercase())
                        .collect();
                    (path.clone(), methods.join(", "))
                })
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adds_plumbing_statuses_and_the_no_nul_rule() {
        let doc = json!({
            "paths": {
                "/api/things/{id}": {
                    "post": {
                        "requestBody": {"content": {}},
                        "security": [{"bearer": []}],
                        "responses": {"201": {"description": "ok"}, "409": {"description": "taken"}}
                    },
                    "get": {"responses": {"200": {"description": "ok"}}}
                },
                "/health/live": {"get": {"responses": {"200": {"description": "ok"}}}}
            },
            "components": {"schemas": {"Thing": {"type": "object", "properties": {
                "name": {"type": "string"}, "email": {"type": "string", "format": "email"},
                "tags": {"type": "array", "items": {"type": ["string", "null"]}}
            }}}}
        });
        let doc = complete(doc);
        let post = &doc["paths"]["/api/things/{id}"]["post"]["responses"];
        for status in [
            "201", "400", "401", "403", "404", "409", "413", "415", "422", "503",
        ] {
            assert!(post[status].is_object(), "{status}: {post}");
        }
        assert_eq!(
            post["409"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/ErrorBody"
        );
        assert!(post["201"].get("content").is_none());
        let get = &doc["paths"]["/api/things/{id}"]["get"]["responses"];
        assert!(get["401"].is_null(), "unsecured: no 401");
        assert!(get["404"].is_object());
        assert_eq!(
            doc["paths"]["/health/live"]["get"]["responses"]
                .as_object()
                .unwrap()
                .len(),
            1
        );
        let props = &doc["components"]["schemas"]["Thing"]["properties"];
        assert_eq!(props["name"]["pattern"], NO_NUL_PATTERN);
        assert!(props["email"].get("pattern").is_none());
        assert_eq!(props["tags"]["items"]["pattern"], NO_NUL_PATTERN);
        let allow = allowed_methods(&doc);
        assert_eq!(allow["/api/things/{id}"], "GET, POST");
    }
}
