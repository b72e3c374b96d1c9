//! Run an action at most once per idempotency key, over the State Surface.
//!
//! Every mutation that honours a retry key (an intent's contract id, a client's
//! `Idempotency-Key`) goes through the same sequence: claim the key with the request's
//! fingerprint, act, record the answer (status and body) — or release the claim when the action
//! failed, so nothing half-done is remembered. [`run`] is that sequence in one place; the caller
//! only maps the [`Outcome`] to its own answers (a replay, `409` while in progress, a conflict on
//! a reused key with a different request).

use std::future::Future;
use std::time::Duration;

use serde::Serialize;

use crate::state_surface::{IdempotencyBegin, StateError, StateSurface};

/// Where a key lives and for how long its answer is kept.
#[derive(Debug, Clone, Copy)]
pub struct Claim<'a> {
    /// Namespace of the key (`intent`, `submit:{tenant}:{session}`).
    pub scope: &'a str,
    /// The key itself.
    pub key: &'a str,
    /// What identifies "the same request" (a signature, a body hash).
    pub fingerprint: &'a str,
    /// How long the claim and the recorded answer are kept.
    pub ttl: Duration,
}

/// What [`run`] found or did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome<T> {
    /// The action ran now; its answer was recorded as `status` and `body` (the JSON of `value`).
    Fresh {
        /// Status the caller chose for the answer.
        status: u16,
        /// The action's result.
        value: T,
        /// `value` as recorded (JSON).
        body: String,
    },
    /// An earlier identical call completed: its recorded answer.
    Replayed {
        /// Recorded status.
        status: u16,
        /// Recorded body.
        body: String,
    },
    /// An identical call is being processed right now; nothing ran.
    InProgress,
    /// The key was used with a different fingerprint; nothing ran.
    Mismatch,
}

/// Claims `claim.key`, runs `act` when the claim is fresh and records its answer; a failed `act`
/// releases the claim and its error is returned unchanged.
pub async fn run<T, E, F, Fut>(
    surface: &StateSurface,
    claim: Claim<'_>,
    act: F,
) -> Result<Outcome<T>, E>
where
    T: Serialize,
    E: From<StateError>,
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<(u16, T), E>>,
{
    let Claim {
        scope,
        key,
        fingerprint,
        ttl,
    } = claim;
    match surface
        .idempotency_begin(scope, key, fingerprint, ttl)
        .await?
    {
        IdempotencyBegin::Fresh => {}
        IdempotencyBegin::InProgress => return Ok(Outcome::InProgress),
        IdempotencyBegin::Mismatch => return Ok(Outcome::Mismatch),
        IdempotencyBegin::Completed { status, body } => {
            return Ok(Outcome::Replayed { status, body })
        }
    }
    let acted = act().await.and_then(|(status, value)| {
        serde_json::to_string(&value)
            .map(|body| (status, value, body))
            .map_err(|e| StateError::Invalid(format!("the answer is not serialisable: {e}")).into())
    });
    match acted {
        Ok((status, value, body)) => {
            surface
                .idempotency_complete(scope, key, fingerprint, status, &body, ttl)
                .await?;
            Ok(Outcome::Fresh {
                status,
                value,
                body,
            })
        }
        Err(err) => {
            if let Err(e) = surface.idempotency_abort(scope, key).await {
                tracing::warn!(error = %e, scope, "could not release an idempotency claim");
            }
            Err(err)
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::Arc;

    use super::*;
    use crate::state_surface::MemoryStore;

    fn surface() -> StateSurface {
        StateSurface::new(Arc::new(MemoryStore::new("idem-test:")))
    }

    fn claim<'a>(key: &'a str, fingerprint: &'a str) -> Claim<'a> {
        Claim {
            scope: "test",
            key,
            fingerprint,
            ttl: Duration::from_secs(60),
        }
    }

    #[tokio::test]
    async fn runs_once_then_replays_the_recorded_answer() {
        let surface = surface();
        let first: Outcome<Vec<u8>> = run(&surface, claim("k", "f"), || async {
            Ok::<_, StateError>((201, vec![1, 2]))
        })
        .await
        .unwrap();
        assert_eq!(
            first,
            Outcome::Fresh {
                status: 201,
                value: vec![1, 2],
                body: "[1,2]".into()
            }
        );
        let again: Outcome<Vec<u8>> = run(&surface, claim("k", "f"), || async {
            Err::<(u16, Vec<u8>), _>(StateError::Invalid("must not run".into()))
        })
        .await
        .unwrap();
        assert_eq!(
            again,
            Outcome::Replayed {
                status: 201,
                body: "[1,2]".into()
            }
        );
    }

    #[tokio::test]
    async fn a_different_fingerprint_is_a_mismatch() {
        let surface = surface();
        run(&surface, claim("k", "f"), || async {
            Ok::<_, StateError>((200, 1))
        })
        .await
        .unwrap();
        let other: Outcome<i32> = run(&surface, claim("k", "g"), || async {
            Ok::<_, StateError>((200, 2))
        })
        .await
        .unwrap();
        assert_eq!(other, Outcome::Mismatch);
    }

    #[tokio::test]
    async fn a_claim_being_processed_is_in_progress() {
        let surface = surface();
        let ttl = Duration::from_secs(60);
        surface
            .idempotency_begin("test", "k", "f", ttl)
            .await
            .unwrap();
        let second: Outcome<i32> = run(&surface, claim("k", "f"), || async {
            Ok::<_, StateError>((200, 2))
        })
        .await
        .unwrap();
        assert_eq!(second, Outcome::InProgress);
    }

    #[tokio::test]
    async fn a_failed_action_releases_its_claim() {
        let surface = surface();
        let failed: Result<Outcome<i32>, StateError> = run(&surface, claim("k", "f"), || async {
            Err(StateError::Invalid("boom".into()))
        })
        .await;
        assert!(failed.is_err());
        let retried: Outcome<i32> = run(&surface, claim("k", "f"), || async {
            Ok::<_, StateError>((200, 3))
        })
        .await
        .unwrap();
        assert!(matches!(retried, Outcome::Fresh { value: 3, .. }));
    }
}
