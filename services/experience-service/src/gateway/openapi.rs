//! Every gateway row in `/openapi.json`: the document is generated from the table, so a row
//! cannot be served without being documented.

use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn};
use utoipa::openapi::security::SecurityRequirement;
use utoipa::openapi::{ContentBuilder, Ref, Required, ResponseBuilder};
use utoipa::Modify;

use super::table::{Row, Verb, ROWS};

/// Adds the rows to the document (used as a `modifiers(...)` entry of the experience `ApiDoc`).
pub struct GatewayRows;

impl Modify for GatewayRows {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for row in ROWS {
            openapi.paths.add_path_operation(
                row.path,
                vec![http_method(row.method)],
                operation(row),
            );
        }
    }
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

fn operation(row: &Row) -> utoipa::openapi::path::Operation {
    let described = |text: &str| ResponseBuilder::new().description(text).build();
    let success = ResponseBuilder::new()
        .description(row.doc.summary)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name(row.doc.response)))
                .build(),
        )
        .build();
    let mut op = OperationBuilder::new()
        .summary(Some(row.doc.summary))
        .tag("gateway")
        .response(row.doc.status.to_string(), success)
        .response("401", described("unauthenticated"))
        .response("403", described(&format!("missing_scope ({})", row.scope)))
        .response("404", described("not_found"))
        .response("503", described("runtime_unavailable"))
        .security(SecurityRequirement::new("bearer", Vec::<String>::new()));
    for segment in row.path.split('/') {
        if let Some(name) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            op = op.parameter(
                ParameterBuilder::new()
                    .name(name)
                    .parameter_in(ParameterIn::Path)
                    .required(Required::True),
            );
        }
    }
    op.build()
}
