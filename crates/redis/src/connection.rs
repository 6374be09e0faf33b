//! The connection stage: connecting in the background, installing the connection, taking a broken
//! one for dead and reconnecting with backoff.
//!
//! A connection is made lazily, by the first command that needs it. When it breaks (a connection
//! error, or three commands in a row that got no answer in time, which catches a server that
//! vanished without closing the socket), it is dropped and a background task reconnects with
//! backoff (50 ms doubling to 1 s) until it succeeds. While the last attempt failed, commands do
//! not wait for the next: they fail at once, so that every user of the connection sees the same
//! health.

use std::sync::atomic::Ordering;
use std::sync::{Arc, PoisonError, Weak};
use std::time::Duration;

use redis::RedisError;
use redis::aio::MultiplexedConnection;

use crate::Error;
use crate::commands::Shared;

/// Commands in a row without an answer after which the connection is taken for dead.
const UNANSWERED_BEFORE_RECONNECT: u64 = 3;
/// The count half of [`Shared::unanswered`].
const COUNT: u64 = 0xffff_ffff;
const RECONNECT_FIRST_DELAY: Duration = Duration::from_millis(50);
const RECONNECT_MAX_DELAY: Duration = Duration::from_secs(1);

/// The connection in use, if any.
pub(crate) struct Link {
    /// Increases with every connection installed, so that a failure reported on an old
    /// connection does not drop a new one.
    pub(crate) generation: u64,
    pub(crate) connection: Option<MultiplexedConnection>,
}

impl Shared {
    /// The installed connection, if any.
    pub(crate) fn current(&self) -> Option<(u64, MultiplexedConnection)> {
        let link = self.link.read().unwrap_or_else(PoisonError::into_inner);
        link.connection
            .as_ref()
            .map(|c| (link.generation, c.clone()))
    }

    /// Why the last connection attempt failed, while no connection has been made since.
    pub(crate) fn last_connect_error(&self) -> Option<String> {
        self.last_connect_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The installed connection, starting a reconnect and waiting for it when there is none.
    /// `None` at once while the last attempt failed: Redis is known to be unreachable.
    pub(crate) async fn connection(self: &Arc<Self>) -> Option<(u64, MultiplexedConnection)> {
        loop {
            let mut installed = std::pin::pin!(self.connected.notified());
            installed.as_mut().enable();
            if let Some(c) = self.current() {
                return Some(c);
            }
            self.start_connecting();
            if self
                .last_connect_error
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .is_some()
            {
                return None;
            }
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
    pub(crate) fn drop_connection(self: &Arc<Self>, generation: u64) {
        {
            let mut link = self.link.write().unwrap_or_else(PoisonError::into_inner);
            if link.generation != generation || link.connection.is_none() {
                return;
            }
            link.connection = None;
        }
        tracing::debug!(
            redis = %self.shown,
            generation,
            "dropping a broken Redis connection"
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
            redis = %self.shown,
            generation = link.generation,
            "connected to Redis"
        );
    }

    /// A request on connection `generation` failed: counts an unanswered one, or drops a broken
    /// connection.
    pub(crate) fn send_failed(
        self: &Arc<Self>,
        generation: u64,
        e: RedisError,
        limit: Duration,
    ) -> Error {
        if e.is_timeout() {
            self.no_answer_on(generation);
            return Error::NoAnswer(limit);
        }
        if e.is_unrecoverable_error() {
            self.drop_connection(generation);
        }
        Error::Redis(e)
    }

    /// A command sent on connection `generation` got no answer in time; a few in a row drop it.
    pub(crate) fn no_answer_on(self: &Arc<Self>, generation: u64) {
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

    /// A command sent on connection `generation` was answered.
    pub(crate) fn answered_on(&self, generation: u64) {
        let v = self.unanswered.load(Ordering::Relaxed);
        if v & COUNT != 0 {
            let _ = self.unanswered.compare_exchange(
                v,
                (generation & COUNT) << 32,
                Ordering::Relaxed,
                Ordering::Relaxed,
            );
        }
    }
}

/// The background reconnect loop: one attempt at a time, backing off, until connected or every
/// handle to the connection is dropped.
async fn reconnect(shared: Weak<Shared>) {
    /// Clears the `connecting` flag however the task ends (also when its runtime shuts down).
    struct Running(Weak<Shared>);
    impl Drop for Running {
        fn drop(&mut self) {
            if let Some(shared) = self.0.upgrade() {
                shared.connecting.store(false, Ordering::Release);
                // Waiters re-check, and start a new task when this one was cut short.
                shared.connected.notify_waiters();
            }
        }
    }
    let _running = Running(shared.clone());
    let mut delay = RECONNECT_FIRST_DELAY;
    loop {
        let Some(s) = shared.upgrade() else {
            return;
        };
        let limit = s.settings.connect_timeout;
        let attempt = tokio::time::timeout(
            limit,
            s.client
                .get_multiplexed_async_connection_with_config(&s.connection_config),
        )
        .await;
        let error = match attempt {
            Ok(Ok(connection)) => {
                s.install(connection);
                return;
            }
            Ok(Err(e)) => e.to_string(),
            Err(_) => format!("connecting took longer than {limit:?}"),
        };
        s.connect_failures.fetch_add(1, Ordering::Relaxed);
        *s.last_connect_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(error.clone());
        // Commands waiting for this attempt answer now rather than at their limit.
        s.connected.notify_waiters();
        tracing::debug!(
            redis = %s.shown,
            error,
            retry_in = ?delay,
            "connecting to Redis failed"
        );
        drop(s);
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(RECONNECT_MAX_DELAY);
    }
}
