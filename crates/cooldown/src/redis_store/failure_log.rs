//! Logging of store failures that does not flood: at most one warning per interval, carrying the
//! count of failures it did not log, and one info line when the store answers again.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// The bookkeeping, apart from the clock and the logger so that it can be tested.
#[derive(Debug, Default)]
pub(crate) struct Episodes {
    last_warning: Option<Instant>,
    /// Failures not logged since the last warning.
    suppressed: u64,
    /// Failures since the store last answered.
    failures: u64,
    /// Whether a warning was logged in the current run of failures.
    warned: bool,
}

/// What to log for a failure.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Warning {
    /// Failures not logged since the previous warning.
    pub suppressed: u64,
    /// Failures since the store last answered, this one included.
    pub failures: u64,
}

impl Episodes {
    /// A failure at `now`: a warning to log, or nothing when one was logged less than `interval` ago.
    pub(crate) fn failed(&mut self, now: Instant, interval: Duration) -> Option<Warning> {
        self.failures += 1;
        let due = self
            .last_warning
            .is_none_or(|last| now.saturating_duration_since(last) >= interval);
        if due {
            self.last_warning = Some(now);
            self.warned = true;
            Some(Warning {
                suppressed: std::mem::take(&mut self.suppressed),
                failures: self.failures,
            })
        } else {
            self.suppressed += 1;
            None
        }
    }

    /// The store answered: the number of failures to report as recovered from, when a warning was
    /// logged for them (so that a recovery line never comes without a warning before it).
    pub(crate) fn answered(&mut self) -> Option<u64> {
        let failures = std::mem::take(&mut self.failures);
        std::mem::take(&mut self.warned).then_some(failures)
    }
}

/// Failure logging for one store.
#[derive(Debug)]
pub(crate) struct FailureLog {
    interval: Duration,
    /// Set on failure, so that the success path costs one load.
    failing: AtomicBool,
    episodes: Mutex<Episodes>,
}

impl FailureLog {
    pub(crate) fn new(interval: Duration) -> FailureLog {
        FailureLog {
            interval,
            failing: AtomicBool::new(false),
            episodes: Mutex::new(Episodes::default()),
        }
    }

    /// Records a failure; calls `warn` with what to log when a warning is due.
    pub(crate) fn failed(&self, warn: impl FnOnce(Warning)) {
        self.failing.store(true, Ordering::Relaxed);
        let warning = self
            .episodes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .failed(Instant::now(), self.interval);
        if let Some(w) = warning {
            warn(w);
        }
    }

    /// Records an answer; calls `recovered` with the number of failures when a warning was
    /// logged for them.
    pub(crate) fn answered(&self, recovered: impl FnOnce(u64)) {
        if !self.failing.load(Ordering::Relaxed) || !self.failing.swap(false, Ordering::Relaxed) {
            return;
        }
        let failures = self
            .episodes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .answered();
        if let Some(n) = failures {
            recovered(n);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEN: Duration = Duration::from_secs(10);

    #[test]
    fn one_warning_per_interval_with_the_count_left_out() {
        let t0 = Instant::now();
        let mut e = Episodes::default();
        assert_eq!(
            e.failed(t0, TEN),
            Some(Warning {
                suppressed: 0,
                failures: 1
            })
        );
        // 1000 failures within the interval: none logged.
        for i in 0..1000 {
            assert_eq!(e.failed(t0 + Duration::from_millis(i), TEN), None);
        }
        assert_eq!(
            e.failed(t0 + TEN, TEN),
            Some(Warning {
                suppressed: 1000,
                failures: 1002
            })
        );
        assert_eq!(e.failed(t0 + TEN + Duration::from_secs(1), TEN), None);
        assert_eq!(e.answered(), Some(1003));
        // Answers with nothing failed: nothing to report.
        assert_eq!(e.answered(), None);
    }

    #[test]
    fn flapping_does_not_flood() {
        let t0 = Instant::now();
        let mut e = Episodes::default();
        let mut lines = 0;
        for i in 0..100 {
            let now = t0 + Duration::from_millis(i * 10);
            lines += usize::from(e.failed(now, TEN).is_some());
            lines += usize::from(e.answered().is_some());
        }
        // One warning and its recovery line within one interval of failing and answering.
        assert_eq!(lines, 2);
    }

    #[test]
    fn answered_is_cheap_when_nothing_failed() {
        let log = FailureLog::new(TEN);
        log.answered(|_| panic!("nothing failed"));
        let mut warned = 0;
        log.failed(|_| warned += 1);
        log.failed(|_| warned += 1);
        assert_eq!(warned, 1);
        let mut recovered = None;
        log.answered(|n| recovered = Some(n));
        assert_eq!(recovered, Some(2));
    }
}
