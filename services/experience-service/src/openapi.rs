//! The OpenAPI 3 document of the experience plane, served at `/openapi.json`: the annotated
//! handlers, plus every gateway row (generated from the table by [`GatewayRows`]; the schemas
//! its rows answer with are registered here).

use platform_sdk::error::{ErrorBody, ErrorDetail, ErrorDetails, FieldError};
use platform_sdk::multi_agent_wire::{
    ContextAgent, ContextAgentMetrics, ContextAgents, ContextHistory, ContextList, ContextMetrics,
    ContextPolicies, ContextRecord, ContextState, CreateContext, DeliveryResult, GovernanceChecks,
    GovernanceData, GovernanceMetrics, MessageBody, MessageSent, PersistState, SendMessage,
    StoredMessage, UpdateContext,
};
use platform_sdk::wire::{
    AnonymousSession, LoginRequest, LoginResponse, LoginUser, LogoutRequest, MeResponse, MeUser,
    MySessions, RefreshRequest, RegisterRequest, SessionRecord, SessionStatus, TenantView,
};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use platform_sdk::agent_wire::{ConversationList, ConversationRecord, MessageList, MessageRecord};
use platform_sdk::governance_wire::{
    AuditEntry, AuditLink, AuditPage, BrokenLink, ChainCheck, Condition, DecisionOut,
    EvaluateRequest, Policy, PolicyEvaluation, PolicyInput, PolicyList, PolicyRule, Violation,
    ViolationList,
};
use platform_sdk::trust_wire::{
    AgentCompliance, AgentTrust, CoreOutput, DecisionCounts, JustificationLog, LoopRequest,
    LoopResponse, OperatorOverride, PlanDetails, PlanInput, TrustDimensions, TrustPoint,
    ViolationCounts,
};
use platform_sdk::usage_wire::{
    ActivityItem, ActivityKind, ActivityList, AgentMetrics, AgentPerformance, FeedbackSummary,
    LatencyPercentiles, PerformanceBucket, TrackAccepted, TrackRequest,
};

use platform_sdk::profile_wire::{
    AttestRequest, AttestationData, AttestationList, AttestationMetadata, AttestationRecord,
    AttestationSignature, AttestationType, ComplianceLevel, CreateProfile, GovernanceIdentity,
    KeySet, ProfileList, ProfileRecord, PublicJwk, RevocationStatus, RevokeRequest, UpdateProfile,
    Verification, VerificationChecks,
};
use platform_sdk::wrapper_wire::{
    DeploymentAccepted, DeploymentHealth, DeploymentStatus, Provider, WrapperConfiguration,
    WrapperInput, WrapperList, WrapperRecord, WrapperStatus,
};

use platform_sdk::live_wire::{
    MarkRead, MarkedRead, Notification, NotificationList, SubscribeRequest, Subscription,
    SubscriptionList, TenantEvent,
};
use platform_sdk::multimodal_wire::{
    ArtifactRef, CancelInput, Modality, MultimodalPolicy, MultimodalRequest,
    MultimodalRequestInput, MultimodalRequestList, MultimodalResult, OutputArtifact, RequestState,
};
use platform_sdk::operations_wire::{
    ControlAction, ControlRecord, ControlRequest, Hub, Process, ProcessDetail, ProcessType,
};
use platform_sdk::outcome_wire::{
    Direction, MetricCounts, MetricType, OutcomeDashboard, OutcomeEvent, OutcomeInput, OutcomeList,
    OutcomeSource, OutcomeSummary, Trend,
};

use crate::gateway::openapi::GatewayRows;
use crate::health;
use crate::identity::routes as auth;
use crate::sessions::routes as sessions;
use crate::tenants::dto::{
    AddMember, Added, ApiKey, ApiKeyList, ChangeRole, CreateApiKey, Invitation, Member, MemberList,
    NewApiKey, RenameTenant, TenantInfo,
};
use crate::tenants::routes as tenants;
use platform_sdk::security_guard::Role;

/// The document.
#[derive(OpenApi)]
#[openapi(
    info(title = "Symphainy experience-service", description = "Public plane: identity, tenants, sessions and every user-facing API."),
    paths(platform_sdk::operational::live, health::ready, auth::register, auth::login, auth::refresh, auth::logout, auth::me,
          auth::sessions, auth::end_session, sessions::create_anonymous, sessions::get_one, sessions::upgrade,
          tenants::current, tenants::rename, tenants::members, tenants::add_member, tenants::change_role,
          tenants::remove_member, tenants::create_key, tenants::list_keys, tenants::revoke_key,
          crate::live_events::route::stream),
    components(schemas(ErrorBody, ErrorDetail, ErrorDetails, FieldError, RegisterRequest, LoginRequest, RefreshRequest, LogoutRequest,
                       LoginResponse, LoginUser, MeResponse, MeUser, TenantView, MySessions, SessionRecord,
                       SessionStatus, AnonymousSession, ConversationList, ConversationRecord, MessageList,
                       MessageRecord, TenantInfo, RenameTenant, AddMember, ChangeRole, Member, Invitation,
                       Added, MemberList, CreateApiKey, ApiKey, NewApiKey, ApiKeyList, Role,
                       sessions::UpgradeRequest, WrapperInput, WrapperConfiguration, Provider, WrapperRecord,
                       WrapperList, WrapperStatus, DeploymentHealth, DeploymentAccepted, DeploymentStatus,
                       ProfileRecord, ProfileList, GovernanceIdentity,
                       ComplianceLevel, AttestationRecord, AttestationList, AttestationData, AttestationType,
                       AttestationSignature, AttestationMetadata, RevocationStatus, Verification,
                       VerificationChecks, PublicJwk, KeySet, CreateProfile, UpdateProfile, AttestRequest,
                       RevokeRequest,
                       TrackRequest, TrackAccepted, AgentMetrics, LatencyPercentiles, FeedbackSummary,
                       AgentPerformance, PerformanceBucket, ActivityList, ActivityItem, ActivityKind,
                       Condition, PolicyRule, PolicyInput, Policy, PolicyList, EvaluateRequest, PolicyEvaluation,
                       AuditLink, DecisionOut, AuditEntry, BrokenLink, ChainCheck, AuditPage, Violation, ViolationList,
                       AgentTrust, TrustDimensions, TrustPoint, AgentCompliance, DecisionCounts,
                       ViolationCounts, LoopRequest, PlanInput, PlanDetails, OperatorOverride, LoopResponse,
                       CoreOutput, JustificationLog,
                       OutcomeInput, OutcomeEvent, OutcomeList, OutcomeSource, MetricType, Direction, Trend,
                       MetricCounts, OutcomeSummary, OutcomeDashboard,
                       ContextPolicies, CreateContext, UpdateContext, ContextRecord, ContextList, MessageBody,
                       SendMessage, GovernanceChecks, GovernanceData, DeliveryResult, MessageSent, StoredMessage,
                       ContextHistory, ContextAgentMetrics, GovernanceMetrics, ContextMetrics, ContextAgent,
                       ContextAgents, PersistState, ContextState,
                       Modality, RequestState, MultimodalRequestInput, ArtifactRef, OutputArtifact,
                       MultimodalRequest, MultimodalRequestList, MultimodalResult, MultimodalPolicy,
                       CancelInput,
                       Notification, NotificationList, MarkRead, MarkedRead, SubscribeRequest, Subscription,
                       SubscriptionList, TenantEvent,
                       Hub, Process, ProcessType, ProcessDetail, ControlRequest, ControlAction, ControlRecord)),
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
        components.add_security_scheme(
            "api_key",
            SecurityScheme::ApiKey(utoipa::openapi::security::ApiKey::Header(
                utoipa::openapi::security::ApiKeyValue::with_description(
                    "X-API-Key",
                    "An API key (`sk_…`); `Authorization: Bearer sk_…` works too.",
                ),
            )),
        );
    }
}
