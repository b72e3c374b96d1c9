//! The OpenAPI 3 document of the runtime plane, served at `/openapi.json`.

use platform_sdk::error::{ErrorBody, ErrorDetail, FieldError};
use platform_sdk::traffic_cop::{Contract, SignedIntent};
use platform_sdk::wire::{
    SessionList, SessionRecord, SessionStatus, ValidateSessionRequest, ValidateSessionResponse,
};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::routes::{health, sessions};

/// The document.
#[derive(OpenApi)]
#[openapi(
    info(title = "Symphainy runtime-service", description = "Internal plane: sessions, executions, state surface. Mutations take signed intents; reads take a service token."),
    paths(health::live, health::ready, sessions::create, sessions::create_anonymous, sessions::upgrade,
          sessions::end, sessions::get_one, sessions::validate, sessions::list),
    components(schemas(ErrorBody, ErrorDetail, FieldError, Contract, SignedIntent, SessionRecord, SessionStatus,
                       SessionList, ValidateSessionRequest, ValidateSessionResponse)),
    modifiers(&ServiceToken)
)]
pub struct ApiDoc;

struct ServiceToken;

impl Modify for ServiceToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "service_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}
