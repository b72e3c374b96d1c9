//! Compliance per agent and window (SPEC §10): the decisions made about an agent and the
//! violations it caused, counted from the stored `governance_decisions` and
//! `governance_violations` rows of the window (the usage analytics' windows: whole UTC hours
//! ending with the current one).
//!
//! `compliance_rate = allow / evaluated`, and `null` when nothing was evaluated: an agent no
//! decision was made about has no rate, rather than a perfect or a failing one. Any agent id is
//! answered (with zeros when nothing is stored): `POST /api/governance/evaluate` decides on any
//! id, so every id it recorded must be readable.

use actix_web::{web, HttpResponse};
use platform_sdk::error::ErrorBody;
use platform_sdk::trust_wire::{AgentCompliance, DecisionCounts, ViolationCounts};
use serde::Deserialize;
use sqlx::AnyPool;

use crate::auth::ServiceCaller;
use crate::error::RuntimeError;
use crate::sessions::service::check_id;
use crate::startup::AppState;
use crate::usage::window::Window;

/// Mounts the endpoint.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        platform_sdk::http::resource("/api/governance/compliance/{agent_id}")
            .route(web::get().to(compliance))
            .default_service(web::to(platform_sdk::http::method_not_allowed)),
    );
}

/// The tenant and the window of a compliance read.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ComplianceQuery {
    /// Tenant.
    #[param(format = Uuid)]
    pub tenant_id: String,
    /// `1h`, `24h` (default), `7d` or `30d`.
    #[param(pattern = "^(1h|24h|7d|30d)$")]
    pub window: Option<String>,
}

/// An agent's decisions by outcome and violations by severity over a window (service token).
#[utoipa::path(get, path = "/api/governance/compliance/{agent_id}",
    params(("agent_id" = String, Path, description = "agent id"), ComplianceQuery),
    responses((status = 200, body = AgentCompliance), (status = 401), (status = 422, body = ErrorBody)),
    security(("service_token" = [])))]
pub async fn compliance(
    _: ServiceCaller,
    state: web::Data<AppState>,
    agent_id: web::Path<String>,
    q: web::Query<ComplianceQuery>,
) -> Result<HttpResponse, RuntimeError> {
    check_id("tenant_id", &q.tenant_id)?;
    let window = Window::parse(q.window.as_deref())?;
    let answer = read(&state.pool, &q.tenant_id, &agent_id, window).await?;
    Ok(HttpResponse::Ok().json(answer))
}

/// The compliance of `agent_id` in `tenant_id` over `window` ending now.
pub async fn read(
    pool: &AnyPool,
    tenant_id: &str,
    agent_id: &str,
    window: Window,
) -> Result<AgentCompliance, RuntimeError> {
    let since = window.first_hour(platform_sdk::time_util::now_ms());
    let mut decisions = DecisionCounts::default();
    for (decision, n) in counts(pool, DECISIONS_SQL, tenant_id, agent_id, since).await? {
        let slot = match decision.as_str() {
            "allow" => &mut decisions.allow,
            "deny" => &mut decisions.deny,
            "modify" => &mut decisions.modify,
            "log" => &mut decisions.log,
            "require_approval" => &mut decisions.require_approval,
            _ => continue,
        };
        *slot += n;
    }
    let mut violations = ViolationCounts::default();
    for (severity, n) in counts(pool, VIOLATIONS_SQL, tenant_id, agent_id, since).await? {
        let slot = match severity.as_str() {
            "high" => &mut violations.high,
            "medium" => &mut violations.medium,
            "low" => &mut violations.low,
            _ => continue,
        };
        *slot += n;
    }
    let d = decisions;
    let evaluated = d.allow + d.deny + d.modify + d.log + d.require_approval;
    Ok(AgentCompliance {
        agent_id: agent_id.to_owned(),
        window: window.as_str().to_owned(),
        evaluated,
        decisions,
        compliance_rate: (evaluated > 0).then(|| d.allow as f64 / evaluated as f64),
        violations,
    })
}

const DECISIONS_SQL: &str = "SELECT decision, COUNT(*) FROM governance_decisions \
    WHERE tenant_id = $1 AND agent_id = $2 AND created_at >= $3 GROUP BY decision";

const VIOLATIONS_SQL: &str = "SELECT severity, COUNT(*) FROM governance_violations \
    WHERE tenant_id = $1 AND agent_id = $2 AND occurred_at >= $3 GROUP BY severity";

async fn counts(
    pool: &AnyPool,
    sql: &str,
    tenant_id: &str,
    agent_id: &str,
    since: i64,
) -> Result<Vec<(String, i64)>, sqlx::Error> {
    sqlx::query_as::<_, (String, i64)>(sql)
        .bind(tenant_id)
        .bind(agent_id)
        .bind(since)
        .fetch_all(pool)
        .await
}
