//! The OpenAPI 3 document of the experience plane, served at `/openapi.json`: the annotated
//! handlers, plus every gateway row (generated from the table by [`GatewayRows`]; the schemas
//! its rows answer with are registered here).

use platform_sdk::error::{ErrorBody, ErrorDetail, FieldError};
use platform_sdk::wire::{
    AnonymousSession, LoginRequest, LoginResponse, LoginUser, LogoutRequest, MeResponse, MeUser,
    MySessions, RefreshRequest, RegisterRequest, SessionRecord, SessionStatus, TenantView,
};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use platform_sdk::agent_wire::{ConversationList, ConversationRecord, MessageList, MessageRecord};

use crate::gateway::openapi::GatewayRows;
use crate::health;
use crate::identity::routes as auth;
use crate::sessions::routes as sessions;

/// The document.
#[derive(OpenApi)]
#[openapi(
    info(title = "Symphainy experience-service", description = "Public plane: identity, tenants, sessions and every user-facing API."),
    paths(platform_sdk::operational::live, health::ready, auth::register, auth::login, auth::refresh, auth::logout, auth::me,
          auth::sessions, auth::end_session, sessions::create_anonymous, sessions::get_one, sessions::upgrade),
    components(schemas(ErrorBody, ErrorDetail, FieldError, RegisterRequest, LoginRequest, RefreshRequest, LogoutRequest,
                       LoginResponse, LoginUser, MeResponse, MeUser, TenantView, MySessions, SessionRecord,
                       SessionStatus, AnonymousSession, ConversationList, ConversationRecord, MessageList,
                       MessageRecord, sessions::UpgradeRequest)),
    modifiers(&Bearer, &GatewayRows)
)]
pub struct ApiDoc;

struct Bearer;

impl Modify for Bearer {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}
