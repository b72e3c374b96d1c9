//! Argon2id hashing off the async threads, with a cap on concurrent hashes and on the queue.
//!
//! Each hash takes ~19 MiB and tens of milliseconds of CPU. A fixed pool of hashing threads (one
//! per core by default) keeps the HTTP workers free for other requests and at most one hash per
//! core in flight (more would only add memory and context switches); a thread takes the next job
//! the moment it finishes one, and keeps its Argon2 memory between jobs. The bounded queue turns
//! a login flood into fast `503 busy` answers instead of unbounded waiting. Unknown emails are
//! verified against a dummy hash made at start-up, so they take as long as a wrong password.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::Mutex;

/// Why hashing could not be done.
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    /// The queue of waiting hash requests is full.
    #[error("too many password hashes queued")]
    Busy,
    /// The parameters are invalid or the hashing task failed.
    #[error("password hashing failed: {0}")]
    Failed(String),
}

/// Argon2id parameters.
#[derive(Debug, Clone, Copy)]
pub struct HashParams {
    /// Memory, KiB.
    pub memory_kib: u32,
    /// Passes.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

/// The hashing service; cheap to clone.
#[derive(Clone)]
pub struct PasswordHasher {
    jobs: SyncSender<Job>,
    queued: Arc<AtomicUsize>,
    dummy: Arc<String>,
}

/// A unit of work for a hashing thread.
type Job = Box<dyn FnOnce(&Argon2<'static>) + Send>;

fn worker(argon: Arc<Argon2<'static>>, jobs: Arc<Mutex<Receiver<Job>>>, queued: Arc<AtomicUsize>) {
    loop {
        let job = match jobs.lock() {
            Ok(rx) => rx.recv(),
            Err(_) => return,
        };
        let Ok(job) = job else { return };
        queued.fetch_sub(1, Ordering::AcqRel);
        job(&argon);
    }
}

impl PasswordHasher {
    /// Builds the hasher and its dummy hash (so this takes one hash's time).
    pub fn new(
        params: HashParams,
        max_concurrent: usize,
        max_queued: usize,
    ) -> Result<Self, HashError> {
        let p = Params::new(
            params.memory_kib,
            params.iterations,
            params.parallelism,
            None,
        )
        .map_err(|e| HashError::Failed(e.to_string()))?;
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, p);
        let salt = SaltString::generate(&mut OsRng);
        let dummy = argon
            .hash_password(b"dummy password for unknown accounts", &salt)
            .map_err(|e| HashError::Failed(e.to_string()))?
            .to_string();
        let argon = Arc::new(argon);
        let queued = Arc::new(AtomicUsize::new(0));
        let (tx, rx) = sync_channel::<Job>(max_queued);
        let rx = Arc::new(Mutex::new(rx));
        for n in 0..max_concurrent.max(1) {
            let (argon, rx, queued) = (argon.clone(), rx.clone(), queued.clone());
            std::thread::Builder::new()
                .name(format!("argon2-{n}"))
                .spawn(move || worker(argon, rx, queued))
                .map_err(|e| HashError::Failed(e.to_string()))?;
        }
        Ok(Self {
            jobs: tx,
            queued,
            dummy: Arc::new(dummy),
        })
    }

    async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce(&Argon2<'static>) -> T + Send + 'static,
    ) -> Result<T, HashError> {
        let (done, result) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |argon| {
            let _ = done.send(job(argon));
        });
        self.queued.fetch_add(1, Ordering::AcqRel);
        match self.jobs.try_send(job) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                self.queued.fetch_sub(1, Ordering::AcqRel);
                return Err(HashError::Busy);
            }
            Err(TrySendError::Disconnected(_)) => {
                self.queued.fetch_sub(1, Ordering::AcqRel);
                return Err(HashError::Failed("the hashing threads stopped".into()));
            }
        }
        result
            .await
            .map_err(|_| HashError::Failed("a hashing thread dropped its job".into()))
    }

    /// Hash requests waiting for a thread (a metrics gauge).
    pub fn queued(&self) -> usize {
        self.queued.load(Ordering::Relaxed)
    }

    /// Hashes a new password (PHC string).
    pub async fn hash(&self, password: &str) -> Result<String, HashError> {
        let password = password.to_owned();
        self.run(move |argon| {
            let salt = SaltString::generate(&mut OsRng);
            argon
                .hash_password(password.as_bytes(), &salt)
                .map(|h| h.to_string())
                .map_err(|e| HashError::Failed(e.to_string()))
        })
        .await?
    }

    /// Verifies a password against a stored hash, or against the dummy hash when `stored` is
    /// `None` (always false then, after the same amount of work).
    pub async fn verify(&self, password: &str, stored: Option<String>) -> Result<bool, HashError> {
        let known = stored.is_some();
        let hash = stored.unwrap_or_else(|| self.dummy.as_ref().clone());
        let password = password.to_owned();
        let ok = self
            .run(move |_| verify_reusing_memory(&hash, password.as_bytes()))
            .await?;
        Ok(known && ok)
    }
}

thread_local! {
    /// The Argon2 working memory of this blocking thread, kept between hashes: allocating and
    /// faulting in ~19 MiB per login costs milliseconds of CPU that belong to other requests.
    static BLOCKS: std::cell::RefCell<Vec<argon2::Block>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Verifies `password` against a PHC string, computing the hash in this thread's reused memory;
/// the comparison is constant-time.
fn verify_reusing_memory(stored: &str, password: &[u8]) -> bool {
    use argon2::password_hash::Output;
    let Ok(parsed) = PasswordHash::new(stored) else {
        return false;
    };
    let (Ok(algorithm), Ok(params), Some(salt), Some(expected)) = (
        Algorithm::try_from(parsed.algorithm),
        Params::try_from(&parsed),
        parsed.salt,
        parsed.hash,
    ) else {
        return false;
    };
    let version = parsed
        .version
        .and_then(|v| Version::try_from(v).ok())
        .unwrap_or(Version::V0x13);
    let mut salt_bytes = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let blocks = params.block_count();
    let argon = Argon2::new(algorithm, version, params);
    let mut out = vec![0u8; expected.len()];
    let computed = BLOCKS.with(|memory| {
        let mut memory = memory.borrow_mut();
        memory.resize(blocks, argon2::Block::default());
        argon.hash_password_into_with_memory(password, salt, &mut out, &mut memory[..blocks])
    });
    computed.is_ok() && Output::new(&out).is_ok_and(|o| o == expected)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fast() -> PasswordHasher {
        PasswordHasher::new(
            HashParams {
                memory_kib: 1024,
                iterations: 1,
                parallelism: 1,
            },
            2,
            8,
        )
        .unwrap()
    }

    #[tokio::test]
    async fn hashes_and_verifies() {
        let h = fast();
        let stored = h.hash("correct horse battery").await.unwrap();
        assert!(stored.starts_with("$argon2id$"));
        assert!(h
            .verify("correct horse battery", Some(stored.clone()))
            .await
            .unwrap());
        assert!(!h.verify("wrong horse battery", Some(stored)).await.unwrap());
        assert!(!h
            .verify("dummy password for unknown accounts", None)
            .await
            .unwrap());
    }

    #[tokio::test]
    async fn a_full_queue_answers_busy() {
        let params = HashParams {
            memory_kib: 1024,
            iterations: 1,
            parallelism: 1,
        };
        let h = PasswordHasher::new(params, 1, 1).unwrap();
        // Occupy the only thread until released, and fill the one queue slot.
        let (started_tx, started_rx) = std::sync::mpsc::channel::<()>();
        let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
        let busy = h.clone();
        let running = tokio::spawn(async move {
            busy.run(move |_| {
                let _ = started_tx.send(());
                let _ = release_rx.recv();
            })
            .await
        });
        tokio::task::spawn_blocking(move || started_rx.recv())
            .await
            .unwrap()
            .unwrap();
        let queued = h.clone();
        let waiting = tokio::spawn(async move { queued.hash("queued-password").await });
        while h.queued() == 0 {
            tokio::task::yield_now().await;
        }
        assert!(matches!(h.hash("one-too-many").await, Err(HashError::Busy)));
        release_tx.send(()).unwrap();
        running.await.unwrap().unwrap();
        assert!(waiting.await.unwrap().is_ok(), "the queued job still runs");
    }
}
