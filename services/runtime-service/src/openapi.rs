//! The OpenAPI 3 document of the runtime plane, served at `/openapi.json`.

use platform_sdk::error::{ErrorBody, ErrorDetail, ErrorDetails, FieldError};
use platform_sdk::traffic_cop::{Contract, SignedIntent};
use platform_sdk::wire::{
    SessionList, SessionRecord, SessionStatus, ValidateSessionRequest, ValidateSessionResponse,
};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use platform_sdk::agent_wire::{
    ConversationList, ConversationRecord, EventPage, ExecutionRecord, ExecutionStatus, MessageList,
    MessageRecord, SafetyAnswer, SessionEvent, SubmitIntentPayload,
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

use crate::conversations::routes as conversations;
use crate::events::routes as events;
use crate::executions::routes as executions;
use crate::governance::compliance;
use crate::governance::plans::routes as plans;
use crate::governance::routes as governance;
use crate::governance::trust::routes as trust;
use crate::health;
use crate::live::routes as live;
use crate::multi_agent::routes as multi_agent;
use crate::multimodal::routes as multimodal;
use crate::notifications::routes as notifications;
use crate::operations::routes as operations;
use crate::outcomes::routes as outcomes;
use crate::profiles::routes as profiles;
use crate::sessions::routes as sessions;
use crate::usage::routes as usage;
use crate::wrappers::routes as wrappers;
use platform_sdk::governance_wire::{
    AuditEntry, AuditLink, AuditPage, BrokenLink, ChainCheck, Condition, DecisionOut,
    EvaluateRequest, Policy, PolicyEvaluation, PolicyInput, PolicyList, PolicyRule, Violation,
    ViolationList,
};
use platform_sdk::live_wire::{
    MarkRead, MarkedRead, Notification, NotificationList, SubscribeRequest, Subscription,
    SubscriptionList, TenantEvent, TenantEventPage,
};
use platform_sdk::multi_agent_wire::{
    ContextAgent, ContextAgentMetrics, ContextAgents, ContextHistory, ContextList, ContextMetrics,
    ContextPolicies, ContextRecord, ContextState, CreateContext, DeliveryResult, GovernanceChecks,
    GovernanceData, GovernanceMetrics, MessageBody, MessageSent, PersistState, SendMessage,
    StoredMessage, UpdateContext,
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
use platform_sdk::trust_wire::{
    AgentCompliance, AgentTrust, CoreOutput, DecisionCounts, JustificationLog, LoopRequest,
    LoopResponse, OperatorOverride, PlanDetails, PlanInput, TrustDimensions, TrustPoint,
    ViolationCounts,
};
use platform_sdk::usage_wire::{
    ActivityItem, ActivityKind, ActivityList, AgentMetrics, AgentPerformance, FeedbackSummary,
    LatencyPercentiles, PerformanceBucket, TrackAccepted, TrackRequest,
};

/// The document.
#[derive(OpenApi)]
#[openapi(
    info(title = "Symphainy runtime-service", description = "Internal plane: sessions, executions, state surface. Mutations take signed intents; reads take a service token."),
    paths(platform_sdk::operational::live, health::ready, sessions::create, sessions::create_anonymous, sessions::upgrade,
          sessions::end, sessions::get_one, sessions::validate, sessions::list, executions::submit,
          executions::get_one, executions::cancel, executions::safety, executions::session_safety,
          events::execution_events, events::execution_stream, events::session_events, events::session_stream,
          conversations::conversations, conversations::messages, wrappers::list, wrappers::get_one,
          wrappers::status, wrappers::create, wrappers::update, wrappers::delete, wrappers::deploy,
          wrappers::pause, wrappers::resume, wrappers::retire,
          profiles::create, profiles::list, profiles::get_one, profiles::update, profiles::attest,
          profiles::attestations, profiles::revoke, profiles::verify, profiles::keys, profiles::rotate,
          usage::track, usage::metrics, usage::performance, usage::activity,
          governance::create, governance::list, governance::get_one, governance::update, governance::delete,
          governance::evaluate, governance::violations, governance::audit,
          trust::trust, compliance::compliance, plans::execute,
          outcomes::record, outcomes::list, outcomes::trend, outcomes::dashboard,
          multi_agent::create, multi_agent::list, multi_agent::get_one, multi_agent::update,
          multi_agent::terminate, multi_agent::send, multi_agent::history, multi_agent::metrics,
          multi_agent::agents, multi_agent::persist, multi_agent::state_of,
          multimodal::list, multimodal::get_one, multimodal::result, multimodal::download,
          multimodal::policy, multimodal::create, multimodal::execute, multimodal::cancel,
          multimodal::put_policy,
          live::events, live::stream, live::subscribe, live::list_subscriptions, live::unsubscribe,
          notifications::list, notifications::mark_read,
          operations::hub, operations::process, operations::control),
    components(schemas(ErrorBody, ErrorDetail, ErrorDetails, FieldError, Contract, SignedIntent, SessionRecord, SessionStatus,
                       SessionList, ValidateSessionRequest, ValidateSessionResponse, SubmitIntentPayload, ExecutionRecord,
                       ExecutionStatus, SessionEvent, EventPage, SafetyAnswer, ConversationList, ConversationRecord,
                       MessageList, MessageRecord, WrapperInput, WrapperConfiguration, WrapperRecord, WrapperList,
                       WrapperStatus, DeploymentHealth, DeploymentAccepted, DeploymentStatus, Provider,
                       CreateProfile, UpdateProfile, ComplianceLevel,
                       GovernanceIdentity, ProfileRecord, ProfileList, AttestRequest, AttestationData,
                       AttestationType, AttestationRecord, AttestationSignature, AttestationMetadata,
                       RevocationStatus, AttestationList, RevokeRequest, Verification, VerificationChecks,
                       PublicJwk, KeySet, TrackRequest, TrackAccepted, AgentMetrics, LatencyPercentiles,
                       FeedbackSummary, AgentPerformance, PerformanceBucket, ActivityList, ActivityItem, ActivityKind,
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
                       TenantEvent, TenantEventPage, Notification, NotificationList, MarkRead, MarkedRead,
                       SubscribeRequest, Subscription, SubscriptionList,
                       Hub, Process, ProcessType, ProcessDetail, ControlRequest, ControlAction, ControlRecord)),
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
