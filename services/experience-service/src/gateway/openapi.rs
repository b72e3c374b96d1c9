//! Every gateway row in `/openapi.json`: the document is generated from the table, so a row
//! cannot be served without being documented.

use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::SecurityRequirement;
use utoipa::openapi::{ContentBuilder, Ref, Required, ResponseBuilder};
use utoipa::Modify;

use super::table::{public_paths, rows, Row, Target, Verb};

/// Adds the rows to the document (used as a `modifiers(...)` entry of the experience `ApiDoc`).
pub struct GatewayRows;

impl Modify for GatewayRows {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for row in rows() {
            let mut op = operation(row);
            if paginated(openapi, row.doc.response) {
                op.parameters
                    .get_or_insert_with(Vec::new)
                    .extend(page_parameters());
            }
            for path in public_paths(row) {
                openapi
                    .paths
                    .add_path_operation(path, vec![http_method(row.method)], op.clone());
            }
        }
    }
}

/// True when the response schema is a list page (`{items, next_cursor}`, SPEC §7).
fn paginated(openapi: &utoipa::openapi::OpenApi, schema: &str) -> bool {
    openapi
        .components
        .as_ref()
        .and_then(|c| c.schemas.get(schema))
        .and_then(|s| serde_json::to_value(s).ok())
        .is_some_and(|s| s["properties"]["next_cursor"].is_object())
}

/// `limit` and `cursor`, as every list takes them (see `platform_sdk::page`).
fn page_parameters() -> [utoipa::openapi::path::Parameter; 2] {
    use platform_sdk::page::{DEFAULT_LIMIT, MAX_LIMIT};
    let limit = ObjectBuilder::new()
        .schema_type(Type::Integer)
        .minimum(Some(1))
        .maximum(Some(MAX_LIMIT))
        .default(Some(DEFAULT_LIMIT.into()));
    [
        ParameterBuilder::new()
            .name("limit")
            .parameter_in(ParameterIn::Query)
            .required(Required::False)
            .description(Some("Page size (default 50, at most 200)."))
            .schema(Some(limit))
            .build(),
        ParameterBuilder::new()
            .name("cursor")
            .parameter_in(ParameterIn::Query)
            .required(Required::False)
            .description(Some("The `next_cursor` of the previous page."))
            .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
            .build(),
    ]
}

fn http_method(verb: Verb) -> HttpMethod {
    match verb {
        Verb::Get => HttpMethod::Get,
        Verb::Post => HttpMethod::Post,
        Verb::Put => HttpMethod::Put,
        Verb::Patch => HttpMethod::Patch,
        Verb::Delete => HttpMethod::Delete,
    }
}

/// What a row's domain refusal means, by status.
fn refusal(status: u16) -> &'static str {
    match status {
        400 => "request_validation_error: the body breaks the schema (`error_details.schema_validation_errors` lists every violation); policy_violation: it breaks a tenant policy rule (`fields` names it); invalid_query",
        412 => "precondition_failed: `If-Match` does not name the current version; nothing changed",
        413 => "payload_too_large: the body is over the endpoint's limit",
        409 => "invalid_transition (the object's state forbids this; nothing changed), idempotency_conflict or conflict",
        422 => "validation_failed: a field is invalid (`fields` names it)",
        _ => "refused",
    }
}

fn json_body(schema: &str) -> utoipa::openapi::Content {
    ContentBuilder::new()
        .schema(Some(Ref::from_schema_name(schema)))
        .build()
}

fn operation(row: &Row) -> utoipa::openapi::path::Operation {
    let described = |text: &str| ResponseBuilder::new().description(text).build();
    let mut success = ResponseBuilder::new().description(row.doc.summary);
    if !row.doc.response.is_empty() {
        success = success.content("application/json", json_body(row.doc.response));
    }
    let success = success.build();
    let mut op = OperationBuilder::new()
        .summary(Some(row.doc.summary))
        .tag("gateway")
        .response(row.doc.status.to_string(), success)
        .response("401", described("unauthenticated"))
        .response("403", described(&format!("missing_scope ({})", row.scope)))
        .response("404", described("not_found"))
        .response("503", described("runtime_unavailable"))
        .security(SecurityRequirement::new("bearer", Vec::<String>::new()));
    for q in row.doc.query {
        let mut schema = ObjectBuilder::new().schema_type(Type::String);
        if let Some(pattern) = q.pattern {
            schema = schema.pattern(Some(pattern));
        }
        op = op.parameter(
            ParameterBuilder::new()
                .name(q.name)
                .parameter_in(ParameterIn::Query)
                .required(Required::False)
                .description(Some(q.description))
                .schema(Some(schema)),
        );
    }
    for status in row.doc.errors {
        op = op.response(status.to_string(), described(refusal(*status)));
    }
    if let Some(schema) = row.doc.request {
        op = op.request_body(Some(
            RequestBodyBuilder::new()
                .content("application/json", json_body(schema))
                .required(Some(Required::True))
                .build(),
        ));
    }
    if let Target::Intent { .. } = row.target {
        // Any mutation can meet its Idempotency-Key again with another body.
        op = op.response("409", described(refusal(409)));
        op = op.parameter(
            ParameterBuilder::new()
                .name("Idempotency-Key")
                .parameter_in(ParameterIn::Header)
                .required(Required::False)
                .description(Some(
                    "Same key and body: the first answer again; another body: 409 idempotency_conflict (24 h).",
                ))
                .schema(Some(
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .min_length(Some(1))
                        .max_length(Some(200))
                        .pattern(Some("^[\\x21-\\x7E]([\\x20-\\x7E]*[\\x21-\\x7E])?$")),
                )),
        );
    }
    if row.doc.errors.contains(&412) {
        op = op.parameter(
            ParameterBuilder::new()
                .name("If-Match")
                .parameter_in(ParameterIn::Header)
                .required(Required::False)
                .description(Some(
                    "The version this write expects (`3`, `\"3\"` or `*`); stale: 412. Absent: unconditional.",
                ))
                .schema(Some(
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .min_length(Some(1))
                        .max_length(Some(200))
                        .pattern(Some("^[\\x21-\\x7E]([\\x20-\\x7E]*[\\x21-\\x7E])?$")),
                )),
        );
    }
    for segment in row.path.split('/') {
        if let Some(name) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            op = op.parameter(
                ParameterBuilder::new()
                    .name(name)
                    .parameter_in(ParameterIn::Path)
                    .required(Required::True)
                    .schema(Some(
                        ObjectBuilder::new()
                            .schema_type(Type::String)
                            .min_length(Some(1)),
                    )),
            );
        }
    }
    op.build()
}
