//! Agent profiles and signed attestations (SPEC §9): profiles are agent data (`agents:*`),
//! attestations and the keys that sign them are governance (`governance:*`; a tenant `member`
//! reads them but cannot attest, revoke or rotate).

use super::{GOVERNANCE_READ, GOVERNANCE_WRITE};
use crate::gateway::table::{Doc, QueryParam, Row, Target, Verb};

/// `agents:read`.
const AGENTS_READ: &str = "agents:read";
/// `agents:write`.
const AGENTS_WRITE: &str = "agents:write";

/// Profiles, attestations, attestation keys.
pub const ROWS: &[Row] = &[
    Row {
        method: Verb::Post,
        path: "/api/agents/profiles",
        scope: AGENTS_WRITE,
        target: Target::Intent {
            path: "/api/agents/profiles",
            action: "create_agent_profile",
        },
        doc: Doc {
            summary: "Creates a profile of one of the tenant's agents, with its constitution hash.",
            status: 201,
            response: "ProfileRecord",
            request: Some("CreateProfile"),
            errors: &[422],
            query: &[],
        },
    },
    Row {
        method: Verb::Get,
        path: "/api/agents/profiles",
        scope: AGENTS_READ,
        target: Target::Read {
            path: "/api/agents/profiles",
        },
        doc: Doc {
            summary: "The tenant's agent profiles, newest first (filter `agent_id`).",
            status: 200,
            response: "ProfileList",
            request: None,
            errors: &[],
            query: &[QueryParam {
                name: "agent_id",
                description: "Only the profiles of this agent.",
                pattern: None,
            }],
        },
    },
    Row {
        method: Verb::Get,
        path: "/api/agents/profiles/{id}",
        scope: AGENTS_READ,
        target: Target::Read {
            path: "/api/agents/profiles/{id}",
        },
        doc: Doc {
            summary: "One of the tenant's agent profiles.",
            status: 200,
            response: "ProfileRecord",
            request: None,
            errors: &[],
            query: &[],
        },
    },
    Row {
        method: Verb::Put,
        path: "/api/agents/profiles/{id}",
        scope: AGENTS_WRITE,
        target: Target::Intent {
            path: "/api/agents/profiles/{id}",
            action: "update_agent_profile",
        },
        doc: Doc {
            summary: "Replaces a profile's defining fields: a new version and constitution hash.",
            status: 200,
            response: "ProfileRecord",
            request: Some("UpdateProfile"),
            errors: &[422],
            query: &[],
        },
    },
    Row {
        method: Verb::Post,
        path: "/api/agents/profiles/{id}/attest",
        scope: GOVERNANCE_WRITE,
        target: Target::Intent {
            path: "/api/agents/profiles/{id}/attest",
            action: "attest_agent_profile",
        },
        doc: Doc {
            summary: "Issues an Ed25519-signed attestation about the profile (signed: the \
                      canonical JSON of the answer without `signature` and `metadata`).",
            status: 201,
            response: "AttestationRecord",
            request: Some("AttestRequest"),
            errors: &[409, 422],
            query: &[],
        },
    },
    Row {
        method: Verb::Get,
        path: "/api/agents/profiles/{id}/attestations",
        scope: GOVERNANCE_READ,
        target: Target::Read {
            path: "/api/agents/profiles/{id}/attestations",
        },
        doc: Doc {
            summary: "A profile's attestations, newest first (filters `type`, `status`).",
            status: 200,
            response: "AttestationList",
            request: None,
            errors: &[],
            query: &[
                QueryParam {
                    name: "type",
                    description: "Only this attestation type.",
                    pattern: Some(
                        "^(VERIFICATION|CERTIFICATION|APPROVAL|AUDIT|COMPLIANCE|DELEGATION)$",
                    ),
                },
                QueryParam {
                    name: "status",
                    description: "Only this revocation status.",
                    pattern: Some("^(ACTIVE|SUSPENDED|REVOKED)$"),
                },
            ],
        },
    },
    Row {
        method: Verb::Post,
        path: "/api/agents/profiles/{id}/attestations/{att_id}/revoke",
        scope: GOVERNANCE_WRITE,
        target: Target::Intent {
            path: "/api/agents/profiles/{id}/attestations/{att_id}/revoke",
            action: "revoke_attestation",
        },
        doc: Doc {
            summary: "Revokes (default, final) or suspends an attestation.",
            status: 200,
            response: "AttestationRecord",
            request: Some("RevokeRequest"),
            errors: &[409, 422],
            query: &[],
        },
    },
    Row {
        method: Verb::Get,
        path: "/api/agents/profiles/{id}/attestations/{att_id}/verify",
        scope: GOVERNANCE_READ,
        target: Target::Read {
            path: "/api/agents/profiles/{id}/attestations/{att_id}/verify",
        },
        doc: Doc {
            summary: "Checks an attestation: signature, expiry, revocation and its parents.",
            status: 200,
            response: "Verification",
            request: None,
            errors: &[],
            query: &[],
        },
    },
    Row {
        method: Verb::Get,
        path: "/api/governance/keys",
        scope: GOVERNANCE_READ,
        target: Target::Read {
            path: "/api/governance/keys",
        },
        doc: Doc {
            summary: "The tenant's public attestation keys as JWKs (OKP / Ed25519).",
            status: 200,
            response: "KeySet",
            request: None,
            errors: &[],
            query: &[],
        },
    },
    Row {
        method: Verb::Post,
        path: "/api/governance/keys/rotate",
        scope: GOVERNANCE_WRITE,
        target: Target::Intent {
            path: "/api/governance/keys/rotate",
            action: "rotate_attestation_key",
        },
        doc: Doc {
            summary:
                "Makes a new active attestation key; the old one is retired and still verifies.",
            status: 201,
            response: "PublicJwk",
            request: None,
            errors: &[409, 422],
            query: &[],
        },
    },
];

#[cfg(test)]
mod tests {
    use super::ROWS;
    use crate::gateway::table::Target;
    use platform_sdk::profile_wire::actions;
    use platform_sdk::security_guard::scopes::ALL_SCOPES;

    #[test]
    fn scopes_exist_and_actions_match_the_runtime() {
        let known = [
            actions::CREATE_PROFILE,
            actions::UPDATE_PROFILE,
            actions::ATTEST,
            actions::REVOKE_ATTESTATION,
            actions::ROTATE_ATTESTATION_KEY,
        ];
        for row in ROWS {
            assert!(ALL_SCOPES.contains(&row.scope), "{}", row.path);
            if let Target::Intent { action, .. } = row.target {
                assert!(known.contains(&action), "{action}");
            }
        }
    }
}
