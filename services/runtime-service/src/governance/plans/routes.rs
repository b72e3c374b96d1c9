//! `POST /loop/execute`: a signed intent (`action: execute_governance_loop`, the experience
//! gateway's row, scope `governance:write`), honouring the client's `Idempotency-Key`.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use platform_sdk::error::ErrorBody;
use platform_sdk::json::ApiJson;
use platform_sdk::traffic_cop::SignedIntent;
use platform_sdk::trust_wire::{LoopResponse, LOOP_ACTION};

use crate::error::RuntimeError;
use crate::intents::routes::answer_keyed;
use crate::startup::AppState;

/// Mounts the endpoint.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        platform_sdk::http::resource("/loop/execute")
            .route(web::post().to(execute))
            .default_service(web::to(platform_sdk::http::method_not_allowed)),
    );
}

/// Judges a plan (payload `LoopRequest`) and appends the justification to the tenant's audit
/// chain. `200` whether the plan is accepted or rejected; `400` with `error_details` when the
/// payload breaks the schema; `404` for an `agent_id` the tenant cannot name.
#[utoipa::path(post, path = "/loop/execute", request_body = SignedIntent,
    params(("Idempotency-Key" = Option<String>, Header, description = "client idempotency key")),
    responses((status = 200, body = LoopResponse),
              (status = 400, description = "request_validation_error; error_details lists every violation", body = ErrorBody),
              (status = 403), (status = 404), (status = 409)))]
pub async fn execute(
    req: HttpRequest,
    state: web::Data<AppState>,
    intent: ApiJson<SignedIntent>,
) -> Result<HttpResponse, RuntimeError> {
    let (pool, governance) = (&state.pool, &state.governance);
    answer_keyed(&state.gate, &req, &intent, LOOP_ACTION, |c| async move {
        Ok((StatusCode::OK, super::execute(pool, governance, &c).await?))
    })
    .await
}
