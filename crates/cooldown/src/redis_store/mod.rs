//! `RedisStore`: cool-downs shared by several gateways (Tyk's among them) through Redis.
//!
//! One claim is one `SET <prefix><hex> 1 NX EX <seconds>` on a multiplexed connection (every claim
//! of the store shares one TCP connection). Claims are sent in pipelines: claims made while a
//! pipeline is out wait and go together in the next (another pipeline goes out early once a few
//! are waiting), so under load Redis and the store read and write many claims per system call,
//! while a lone claim still goes at once.
//!
//! The connection is made lazily, in the background, by the first claim that needs it; a claim
//! waits for it at most `claim_timeout`. When the connection breaks (a connection error, or three
//! requests in a row that got no answer in time, which catches a server that vanished without
//! closing the socket), it is dropped and a background task reconnects with backoff (50 ms
//! doubling to 1 s) until it succeeds. No claim ever waits longer than `claim_timeout`: past it
//! the failure policy answers. A pipeline's time limit is that of its oldest claim, one timer per
//! pipeline.

mod config;
mod failure_log;

pub use config::{FailurePolicy, RedisConfig};

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock, Weak};
use std::time::Duration;

use async_trait::async_trait;
use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, Client, RedisError, Value};
use tokio::sync::{Notify, oneshot};
use tokio::time::Instant;

use crate::error::{Error, Result};
use crate::{Checksum, Claim, ClaimStats, CooldownStore};
use failure_log::FailureLog;

/// Claims in a row without an answer after which the connection is taken for dead.
const UNANSWERED_BEFORE_RECONNECT: u64 = 3;
/// The count half of [`Inner::unanswered`].
const COUNT: u64 = 0xffff_ffff;
const RECONNECT_FIRST_DELAY: Duration = Duration::from_millis(50);
const RECONNECT_MAX_DELAY: Duration = Duration::from_secs(1);
/// Pipelines of claims out at once. Claims made while one is out wait and go together in the next;
/// another is sent before those out are answered only once [`FULL_BATCH`] claims are waiting.
const PIPELINES_IN_FLIGHT: usize = 2;
/// Claims waiting that are worth a pipeline of their own while another is out.
const FULL_BATCH: usize = 8;
/// The longest window Redis is asked for (about 136 years).
const MAX_WINDOW_SECS: u64 = u32::MAX as u64;

/// The Redis cool-down store: one `SET <prefix><hex> 1 NX EX <seconds>` per claim.
///
/// Every claim of the store shares one multiplexed (pipelined) connection. The first claim that
/// needs it starts connecting in the background and waits for it at most the claim time limit.
/// A connection error, or three claims in a row without an answer in time (a server that vanished
/// without closing the socket), drops the connection, and a background task reconnects with
/// backoff (50 ms doubling to 1 s) until it succeeds. No claim waits longer than the limit: past
/// it the failure policy answers.
///
/// Cheap to clone (clones share the connection and the counters). Claims must run on a Tokio
/// runtime; making the store does not need one and does not connect.
#[derive(Clone)]
pub struct RedisStore {
    inner: Arc<Inner>,
}

struct Inner {
    config: RedisConfig,
    client: Client,
    connection_config: AsyncConnectionConfig,
    link: RwLock<Link>,
    /// Claims in a row that got no answer in time: the connection's generation (low 32 bits) in
    /// the high half, the count in the low half.
    unanswered: AtomicU64,
    /// Woken when a connection is installed.
    connected: Notify,
    /// Whether a reconnect task is running.
    connecting: AtomicBool,
    /// Why the last connection attempt failed, while not connected.
    last_connect_error: Mutex<Option<String>>,
    won: AtomicU64,
    held: AtomicU64,
    unavailable: AtomicU64,
    errors: AtomicU64,
    failures: FailureLog,
    /// Claims waiting for the pipeline in flight to come back.
    batch: Mutex<Batch>,
}

/// Claims to be sent together in one pipeline.
#[derive(Default)]
struct Batch {
    waiting: Vec<Waiting>,
    /// Tasks sending pipelines, each one at a time; at most [`PIPELINES_IN_FLIGHT`].
    flushers: usize,
}

/// One claim in a batch.
struct Waiting {
    key: Vec<u8>,
    secs: u64,
    since: Instant,
    reply: oneshot::Sender<std::result::Result<bool, Failure>>,
}

struct Link {
    /// Increases with every connection installed, so that a failure reported on an old
    /// connection does not drop a new one.
    generation: u64,
    connection: Option<MultiplexedConnection>,
}

/// Why a claim could not be answered.
#[derive(Clone)]
enum Failure {
    /// Redis answered with an error, or the connection failed.
    Redis(RedisError),
    /// The command was sent and got no answer within the limit.
    NoAnswer(Duration),
    /// No connection could be had within the limit.
    /// No connection could be had within the limit; the last connection attempt's error.
    NotConnected(Duration, Option<String>),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Redis(e) => write!(f, "{e}"),
            Failure::NoAnswer(limit) => write!(f, "no answer within {limit:?}"),
            Failure::NotConnected(limit, None) => write!(f, "not connected within {limit:?}"),
            Failure::NotConnected(limit, Some(last)) => write!(
                f,
                "not connected within {limit:?}; the last attempt failed: {last}"
            ),
        }
    }
}

impl RedisStore {
    /// A store for `config`; checks the configuration but does not connect (the first claim does).
    ///
    /// # Errors
    /// [`Error::Config`] when the URL does not parse or names a scheme other than `redis`,
    /// `rediss` or `unix`, or when a time limit is zero.
    pub fn new(config: RedisConfig) -> Result<RedisStore> {
        let shown = config.redacted_url();
        if config.claim_timeout.is_zero() {
            return Err(Error::Config(format!(
                "Redis store {shown}: claim_timeout is 0; expected a time limit such as 250 ms"
            )));
        }
        if config.connect_timeout.is_zero() {
            return Err(Error::Config(format!(
                "Redis store {shown}: connect_timeout is 0; expected a time limit such as 2 s"
            )));
        }
        let bad_url = |e: RedisError| {
            Error::Config(format!(
                "Redis URL {shown}: {e}; expected redis://[[user]:password@]host[:port][/db] \
                 or rediss://... for TLS"
            ))
        };
        let client = match &config.tls_root_cert {
            None => Client::open(config.url.as_str()).map_err(bad_url)?,
            Some(_) if !config.url.starts_with("rediss://") => {
                return Err(Error::Config(format!(
                    "Redis store {shown}: tls_root_cert is set but the URL is not rediss://; \
                     expected a rediss:// URL, or no tls_root_cert"
                )));
            }
            Some(pem) => Client::build_with_tls(
                config.url.as_str(),
                redis::TlsCertificates {
                    client_tls: None,
                    root_cert: Some(pem.clone()),
                },
            )
            .map_err(bad_url)?,
        };
        let connection_config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(config.connect_timeout))
            .set_response_timeout(Some(config.claim_timeout));
        Ok(RedisStore {
            inner: Arc::new(Inner {
                failures: FailureLog::new(config.warning_interval),
                config,
                client,
                connection_config,
                link: RwLock::new(Link {
                    generation: 0,
                    connection: None,
                }),
                unanswered: AtomicU64::new(0),
                connected: Notify::new(),
                connecting: AtomicBool::new(false),
                last_connect_error: Mutex::new(None),
                won: AtomicU64::new(0),
                held: AtomicU64::new(0),
                unavailable: AtomicU64::new(0),
                errors: AtomicU64::new(0),
                batch: Mutex::new(Batch::default()),
            }),
        })
    }

    /// The configuration the store was made with.
    pub fn config(&self) -> &RedisConfig {
        &self.inner.config
    }

    /// The Redis key of `checksum`: the prefix and the 32 lower-case hex digits.
    pub fn key(&self, checksum: &Checksum) -> String {
        checksum.key(&self.inner.config.key_prefix)
    }

    /// Whether the store holds a connection it believes to be working.
    pub fn is_connected(&self) -> bool {
        self.inner.current().is_some()
    }

    /// How many connections the store has made: 1 after the first claim, one more after each
    /// reconnect.
    pub fn connections(&self) -> u64 {
        self.inner
            .link
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .generation
    }

    /// What the store has answered so far.
    pub fn stats(&self) -> ClaimStats {
        let i = &self.inner;
        ClaimStats::new(
            i.won.load(Ordering::Relaxed),
            i.held.load(Ordering::Relaxed),
            i.unavailable.load(Ordering::Relaxed),
            i.errors.load(Ordering::Relaxed),
        )
    }
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("config", &self.inner.config)
            .field("connected", &self.is_connected())
            .field("stats", &self.stats())
            .finish()
    }
}

/// A window in whole seconds for `EX`: rounded up, at least 1.
fn ex_seconds(window: Duration) -> u64 {
    let secs = window
        .as_secs()
        .saturating_add(u64::from(window.subsec_nanos() > 0));
    secs.clamp(1, MAX_WINDOW_SECS)
}

impl Inner {
    /// The installed connection, if any.
    fn current(&self) -> Option<(u64, MultiplexedConnection)> {
        let link = self.link.read().unwrap_or_else(PoisonError::into_inner);
        link.connection
            .as_ref()
            .map(|c| (link.generation, c.clone()))
    }

    /// The installed connection, starting a reconnect and waiting for it when there is none.
    async fn connection(self: &Arc<Self>) -> (u64, MultiplexedConnection) {
        loop {
            let mut installed = std::pin::pin!(self.connected.notified());
            installed.as_mut().enable();
            if let Some(c) = self.current() {
                return c;
            }
            self.start_connecting();
            installed.await;
        }
    }

    /// Starts the background reconnect task unless one runs.
    fn start_connecting(self: &Arc<Self>) {
        if self.connecting.swap(true, Ordering::AcqRel) {
            return;
        }
        tokio::spawn(reconnect(Arc::downgrade(self)));
    }

    /// Drops connection `generation` (when it is still the current one) and reconnects.
    fn drop_connection(self: &Arc<Self>, generation: u64) {
        {
            let mut link = self.link.write().unwrap_or_else(PoisonError::into_inner);
            if link.generation != generation || link.connection.is_none() {
                return;
            }
            link.connection = None;
        }
        tracing::debug!(
            redis = %self.config.redacted_url(),
            generation,
            "cool-down store: dropping a broken Redis connection"
        );
        self.start_connecting();
    }

    fn install(&self, connection: MultiplexedConnection) {
        *self
            .last_connect_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = None;
        let mut link = self.link.write().unwrap_or_else(PoisonError::into_inner);
        link.generation += 1;
        link.connection = Some(connection);
        tracing::debug!(
            redis = %self.config.redacted_url(),
            generation = link.generation,
            "cool-down store: connected to Redis"
        );
    }

    /// What Redis's reply to one `SET NX EX` means: won, held or an error.
    fn answer(&self, generation: u64, value: Value) -> std::result::Result<bool, Failure> {
        match value.extract_error() {
            Ok(Value::Okay) => {
                self.answered_on(generation);
                Ok(true)
            }
            Ok(Value::Nil) => {
                self.answered_on(generation);
                Ok(false)
            }
            Ok(other) => Err(Failure::Redis(RedisError::from((
                redis::ErrorKind::UnexpectedReturnType,
                "unexpected reply to SET NX EX",
                format!("{other:?}"),
            )))),
            Err(e) => Err(Failure::Redis(e)),
        }
    }

    /// A request on connection `generation` failed: counts an unanswered one, or drops a broken
    /// connection.
    fn send_failed(self: &Arc<Self>, generation: u64, e: RedisError) -> Failure {
        if e.is_timeout() {
            self.no_answer_on(generation);
            return Failure::NoAnswer(self.config.claim_timeout);
        }
        if e.is_unrecoverable_error() {
            self.drop_connection(generation);
        }
        Failure::Redis(e)
    }

    /// Claims: joins the next batch, and starts sending if no pipeline is out. Answered within
    /// the claim's limit, which also bounds waiting for a connection: a batch past it is answered
    /// as unanswered, or as not connected.
    async fn claim(
        self: &Arc<Self>,
        key: Vec<u8>,
        secs: u64,
    ) -> std::result::Result<bool, Failure> {
        let (reply, answer) = oneshot::channel();
        let lead = {
            let mut batch = self.batch.lock().unwrap_or_else(PoisonError::into_inner);
            batch.waiting.push(Waiting {
                key,
                secs,
                since: Instant::now(),
                reply,
            });
            let lead = batch.flushers == 0
                || (batch.flushers < PIPELINES_IN_FLIGHT && batch.waiting.len() >= FULL_BATCH);
            batch.flushers += usize::from(lead);
            lead
        };
        if lead {
            tokio::spawn(flush(self.clone()));
        }
        answer
            .await
            .unwrap_or(Err(Failure::NoAnswer(self.config.claim_timeout)))
    }

    /// A claim sent on connection `generation` got no answer in time; a few in a row drop it.
    fn no_answer_on(self: &Arc<Self>, generation: u64) {
        let tag = (generation & COUNT) << 32;
        let count = |v: u64| {
            if v & !COUNT == tag {
                (v & COUNT) + 1
            } else {
                1
            }
        };
        let previous = self
            .unanswered
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |v| {
                Some(tag | count(v))
            })
            .unwrap_or_default();
        if count(previous) >= UNANSWERED_BEFORE_RECONNECT {
            self.drop_connection(generation);
        }
    }

    /// A claim sent on connection `generation` was answered.
    fn answered_on(&self, generation: u64) {
        let v = self.unanswered.load(Ordering::Relaxed);
        if v & COUNT != 0 {
            let _ = self.unanswered.compare_exchange(
                v,
                (generation & COUNT) << 32,
                Ordering::Relaxed,
                Ordering::Relaxed,
            );
        }
        self.failures.answered(|failures| {
            tracing::info!(
                redis = %self.config.redacted_url(),
                failures,
                "cool-down store: Redis answers again"
            );
        });
    }

    fn failed(&self, failure: &Failure) -> Claim {
        self.unavailable.fetch_add(1, Ordering::Relaxed);
        if !matches!(failure, Failure::NotConnected(..)) {
            self.errors.fetch_add(1, Ordering::Relaxed);
        }
        let policy = self.config.failure_policy;
        self.failures.failed(|w| {
            tracing::warn!(
                redis = %self.config.redacted_url(),
                error = %failure,
                policy = %policy,
                failures = w.failures,
                not_logged = w.suppressed,
                "cool-down store: Redis cannot be asked; claims are answered by the {policy} policy"
            );
        });
        Claim::Unavailable {
            send: policy.sends(),
        }
    }
}

/// Sends the waiting claims, one pipeline at a time, until none is left.
async fn flush(inner: Arc<Inner>) {
    /// Lets the next claim start a flusher should this one panic.
    struct Flushing<'a>(&'a Inner);
    impl Drop for Flushing<'_> {
        fn drop(&mut self) {
            if std::thread::panicking() {
                self.0
                    .batch
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .flushers -= 1;
            }
        }
    }
    let _flushing = Flushing(&inner);
    loop {
        let waiting = {
            let mut batch = inner.batch.lock().unwrap_or_else(PoisonError::into_inner);
            if batch.waiting.is_empty() {
                batch.flushers -= 1;
                return;
            }
            std::mem::take(&mut batch.waiting)
        };
        let limit = inner.config.claim_timeout;
        // The oldest claim's limit bounds the whole batch.
        let deadline = waiting[0].since + limit;
        let mut sent_on = None;
        let sent = tokio::time::timeout_at(deadline, async {
            let (generation, mut connection) = inner.connection().await;
            sent_on = Some(generation);
            let mut pipeline = redis::pipe();
            for w in &waiting {
                pipeline
                    .cmd("SET")
                    .arg(&w.key)
                    .arg(1)
                    .arg("NX")
                    .arg("EX")
                    .arg(w.secs);
            }
            let replies = connection
                .send_packed_commands(&pipeline, 0, waiting.len())
                .await;
            (generation, replies)
        })
        .await;
        match sent {
            Ok((generation, Ok(replies))) if replies.len() == waiting.len() => {
                for (w, value) in waiting.into_iter().zip(replies) {
                    let _ = w.reply.send(inner.answer(generation, value));
                }
            }
            Ok((generation, Ok(replies))) => {
                let failure = Failure::Redis(RedisError::from((
                    redis::ErrorKind::UnexpectedReturnType,
                    "unexpected number of replies to a pipeline of SET NX EX",
                    format!("{} replies to {} claims", replies.len(), waiting.len()),
                )));
                inner.drop_connection(generation);
                answer_all(waiting, &failure);
            }
            Ok((generation, Err(e))) => {
                let failure = inner.send_failed(generation, e);
                answer_all(waiting, &failure);
            }
            Err(_) => {
                let failure = match sent_on {
                    Some(generation) => {
                        inner.no_answer_on(generation);
                        Failure::NoAnswer(limit)
                    }
                    None => Failure::NotConnected(
                        limit,
                        inner
                            .last_connect_error
                            .lock()
                            .unwrap_or_else(PoisonError::into_inner)
                            .clone(),
                    ),
                };
                answer_all(waiting, &failure);
            }
        }
    }
}

fn answer_all(waiting: Vec<Waiting>, failure: &Failure) {
    for w in waiting {
        let _ = w.reply.send(Err(failure.clone()));
    }
}

/// The background reconnect loop: one attempt at a time, backing off, until connected or the
/// store is dropped.
async fn reconnect(store: Weak<Inner>) {
    /// Clears the `connecting` flag however the task ends (also when its runtime shuts down).
    struct Running(Weak<Inner>);
    impl Drop for Running {
        fn drop(&mut self) {
            if let Some(inner) = self.0.upgrade() {
                inner.connecting.store(false, Ordering::Release);
                // Waiters re-check, and start a new task when this one was cut short.
                inner.connected.notify_waiters();
            }
        }
    }
    let _running = Running(store.clone());
    let mut delay = RECONNECT_FIRST_DELAY;
    loop {
        let Some(inner) = store.upgrade() else {
            return;
        };
        let attempt = tokio::time::timeout(
            inner.config.connect_timeout,
            inner
                .client
                .get_multiplexed_async_connection_with_config(&inner.connection_config),
        )
        .await;
        let error = match attempt {
            Ok(Ok(connection)) => {
                inner.install(connection);
                return;
            }
            Ok(Err(e)) => e.to_string(),
            Err(_) => format!(
                "connecting took longer than {:?}",
                inner.config.connect_timeout
            ),
        };
        inner.errors.fetch_add(1, Ordering::Relaxed);
        *inner
            .last_connect_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(error.clone());
        tracing::debug!(
            redis = %inner.config.redacted_url(),
            error,
            retry_in = ?delay,
            "cool-down store: connecting to Redis failed"
        );
        drop(inner);
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(RECONNECT_MAX_DELAY);
    }
}

#[async_trait]
impl CooldownStore for RedisStore {
    async fn claim(&self, checksum: &Checksum, window: Duration) -> Claim {
        let inner = &self.inner;
        if window.is_zero() {
            inner.won.fetch_add(1, Ordering::Relaxed);
            return Claim::Won;
        }
        let prefix = inner.config.key_prefix.as_bytes();
        let mut key = Vec::with_capacity(prefix.len() + 32);
        key.extend_from_slice(prefix);
        key.extend_from_slice(&checksum.hex_bytes());
        match inner.claim(key, ex_seconds(window)).await {
            Ok(true) => {
                inner.won.fetch_add(1, Ordering::Relaxed);
                Claim::Won
            }
            Ok(false) => {
                inner.held.fetch_add(1, Ordering::Relaxed);
                Claim::Held
            }
            Err(failure) => inner.failed(&failure),
        }
    }

    fn stats(&self) -> ClaimStats {
        RedisStore::stats(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_round_up_to_whole_seconds() {
        assert_eq!(ex_seconds(Duration::from_millis(1)), 1);
        assert_eq!(ex_seconds(Duration::from_millis(999)), 1);
        assert_eq!(ex_seconds(Duration::from_secs(1)), 1);
        assert_eq!(ex_seconds(Duration::from_millis(1001)), 2);
        assert_eq!(ex_seconds(Duration::from_secs(60)), 60);
        assert_eq!(ex_seconds(Duration::MAX), MAX_WINDOW_SECS);
    }

    #[test]
    fn configuration_errors_name_the_problem_and_hide_the_password() {
        let bad = [
            (RedisConfig::new("http://:pw@h:1"), "Redis URL"),
            (
                RedisConfig::new("redis://h").with_claim_timeout(Duration::ZERO),
                "claim_timeout",
            ),
            (
                RedisConfig::new("redis://h").with_connect_timeout(Duration::ZERO),
                "connect_timeout",
            ),
            (
                RedisConfig::new("redis://h").with_tls_root_cert(b"pem".to_vec()),
                "rediss://",
            ),
        ];
        for (config, names) in bad {
            let e = RedisStore::new(config).unwrap_err().to_string();
            assert!(e.contains(names), "{e}");
            assert!(!e.contains("pw@"), "{e}");
        }
    }

    #[test]
    fn making_a_store_needs_no_runtime_and_does_not_connect() {
        // Nothing listens on port 1; nothing is attempted either.
        let s = RedisStore::new(RedisConfig::new("redis://127.0.0.1:1/0")).unwrap();
        assert!(!s.is_connected());
        assert_eq!(s.stats(), ClaimStats::default());
        assert_eq!(
            s.key(&Checksum([0xab; 16])),
            format!("webhook.cache.{}", "ab".repeat(16))
        );
    }

    #[test]
    fn tls_urls_are_accepted() {
        let s = RedisStore::new(RedisConfig::new("rediss://:pw@example.com:6380/2")).unwrap();
        assert!(!s.is_connected());
    }
}
