//! A circuit around storage calls, for any [`KeyStore`](super::KeyStore) or
//! [`LimitStore`](super::LimitStore): each call is bounded by a deadline the caller computes once
//! (so the calls of one request share it), and after [`CIRCUIT_THRESHOLD`] timeouts in a row the
//! circuit opens: calls fail at once for [`CIRCUIT_OPEN_FOR`], then one trial call goes through,
//! and its answer closes the circuit again (its timeout opens it for another while).
//!
//! Time is tokio's, so tests drive it with a paused clock.

use std::future::Future;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::time::Instant;

use super::StoreError;

/// How many storage calls in a row must time out before the circuit opens.
pub const CIRCUIT_THRESHOLD: u32 = 3;
/// How long an open circuit fails storage calls at once before it lets one trial call through.
pub const CIRCUIT_OPEN_FOR: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Calls go through; `timeouts` in a row so far.
    Closed { timeouts: u32 },
    /// Calls fail at once until `until`.
    Open { until: Instant },
    /// One trial call is out; the others fail at once.
    Trial,
}

/// Bounds storage calls by a deadline and fails them fast while the store does not answer.
#[derive(Debug)]
pub struct Circuit {
    /// Whether the state is `Closed { timeouts: 0 }`: then a call is admitted, and an answer
    /// recorded, without taking the lock (every request's storage calls pass here).
    healthy: AtomicBool,
    state: Mutex<State>,
    threshold: u32,
    open_for: Duration,
}

impl Default for Circuit {
    fn default() -> Self {
        Circuit::new(CIRCUIT_THRESHOLD, CIRCUIT_OPEN_FOR)
    }
}

/// Puts an abandoned trial call (its request went away) back as an open circuit whose while is
/// over, so that the next call is the trial.
struct TrialGuard<'a> {
    circuit: &'a Circuit,
    armed: bool,
}

impl Drop for TrialGuard<'_> {
    fn drop(&mut self) {
        if self.armed {
            let mut state = self.circuit.lock();
            if *state == State::Trial {
                *state = State::Open {
                    until: Instant::now(),
                };
            }
        }
    }
}

impl Circuit {
    /// A circuit that opens after `threshold` timeouts in a row, for `open_for`.
    pub fn new(threshold: u32, open_for: Duration) -> Circuit {
        Circuit {
            healthy: AtomicBool::new(true),
            state: Mutex::new(State::Closed { timeouts: 0 }),
            threshold: threshold.max(1),
            open_for,
        }
    }

    /// Whether calls fail at once now.
    pub fn is_open(&self) -> bool {
        match *self.lock() {
            State::Closed { .. } => false,
            State::Open { until } => Instant::now() < until,
            State::Trial => true,
        }
    }

    /// Runs `call` unless the circuit is open, giving up at `deadline`.
    ///
    /// # Errors
    /// The call's own error; a [`StoreError`] saying the deadline passed; or, at once, one saying
    /// the circuit is open.
    pub async fn call<T>(
        &self,
        deadline: Instant,
        call: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        let trial = self.admit()?;
        let mut guard = TrialGuard {
            circuit: self,
            armed: trial,
        };
        let outcome = tokio::time::timeout_at(deadline, call).await;
        guard.armed = false;
        let outcome = match outcome {
            Ok(result) if !trial && self.healthy.load(Ordering::Acquire) => return result,
            other => other,
        };
        let mut state = self.lock();
        match outcome {
            Ok(result) => {
                *state = State::Closed { timeouts: 0 };
                self.healthy.store(true, Ordering::Release);
                result
            }
            Err(_) => {
                self.healthy.store(false, Ordering::Release);
                *state = match *state {
                    State::Closed { timeouts } if timeouts + 1 < self.threshold => State::Closed {
                        timeouts: timeouts + 1,
                    },
                    State::Open { until } if !trial => State::Open { until },
                    _ => State::Open {
                        until: Instant::now() + self.open_for,
                    },
                };
                Err(StoreError(
                    "storage did not answer within the request's storage deadline".into(),
                ))
            }
        }
    }

    /// `Ok(true)` for the trial call of an open circuit whose while is over, `Ok(false)` for a call
    /// of a closed circuit, an error while open.
    fn admit(&self) -> Result<bool, StoreError> {
        if self.healthy.load(Ordering::Acquire) {
            return Ok(false);
        }
        let mut state = self.lock();
        match *state {
            State::Closed { .. } => Ok(false),
            State::Open { until } if Instant::now() >= until => {
                *state = State::Trial;
                Ok(true)
            }
            State::Open { .. } | State::Trial => Err(StoreError(format!(
                "{} storage calls in a row timed out; storage calls fail at once for {} s \
                 before one is tried again",
                self.threshold,
                self.open_for.as_secs()
            ))),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hang() -> impl Future<Output = Result<(), StoreError>> {
        std::future::pending()
    }

    async fn answer() -> Result<(), StoreError> {
        Ok(())
    }

    #[tokio::test(start_paused = true)]
    async fn opens_after_the_threshold_fails_fast_then_tries_one_call() {
        let c = Circuit::new(3, Duration::from_secs(5));
        let ms = Duration::from_millis;
        for _ in 0..3 {
            assert!(!c.is_open());
            let start = Instant::now();
            assert!(c.call(start + ms(300), hang()).await.is_err());
            assert_eq!(start.elapsed(), ms(300));
        }
        assert!(c.is_open());
        let start = Instant::now();
        let e = c.call(start + ms(300), answer()).await.unwrap_err();
        assert_eq!(start.elapsed(), Duration::ZERO);
        assert!(e.0.contains("3 storage calls in a row timed out"), "{e}");

        // The while passes; a trial that times out opens it again.
        tokio::time::advance(Duration::from_secs(5)).await;
        assert!(!c.is_open());
        assert!(c.call(Instant::now() + ms(300), hang()).await.is_err());
        assert!(c.is_open());
        assert!(c.call(Instant::now() + ms(300), answer()).await.is_err());

        // A trial that answers closes it.
        tokio::time::advance(Duration::from_secs(5)).await;
        c.call(Instant::now() + ms(300), answer()).await.unwrap();
        assert!(!c.is_open());
        c.call(Instant::now() + ms(300), answer()).await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn an_answer_resets_the_count_and_an_abandoned_trial_leaves_room_for_the_next() {
        let c = Circuit::new(2, Duration::from_secs(5));
        let soon = || Instant::now() + Duration::from_millis(100);
        assert!(c.call(soon(), hang()).await.is_err());
        c.call(soon(), answer()).await.unwrap();
        assert!(c.call(soon(), hang()).await.is_err());
        assert!(!c.is_open(), "the answer in between reset the count");
        assert!(c.call(soon(), hang()).await.is_err());
        assert!(c.is_open());

        tokio::time::advance(Duration::from_secs(5)).await;
        // The trial's request goes away before the store answers.
        let abandoned = tokio::time::timeout(Duration::from_millis(10), c.call(soon(), hang()));
        assert!(abandoned.await.is_err());
        c.call(soon(), answer()).await.unwrap();
        assert!(!c.is_open());
    }

    #[tokio::test(start_paused = true)]
    async fn a_store_error_is_the_callers_and_does_not_count_as_a_timeout() {
        let c = Circuit::new(1, Duration::from_secs(5));
        let e = c
            .call(Instant::now() + Duration::from_millis(100), async {
                Err::<(), _>(StoreError("refused".into()))
            })
            .await
            .unwrap_err();
        assert_eq!(e.0, "refused");
        assert!(!c.is_open());
    }
}
