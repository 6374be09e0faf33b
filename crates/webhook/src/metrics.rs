//! Counters for every outcome, per handler, cheap enough for the hot path (relaxed atomics).

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use hookshot_core::{FailReason, Outcome};

/// Upper bounds of the delivery latency histogram, in milliseconds. A delivery counts in the first
/// bucket whose bound it does not exceed (Prometheus's `le`), compared to the microsecond: 1 ms
/// exactly is in the 1 ms bucket, 1.0001 ms and 1.9 ms in the 5 ms one. Beyond the last bound a
/// delivery counts only in the total (`+Inf`).
pub const LATENCY_BUCKETS_MS: [u64; 12] =
    [1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000];

/// Live counters of one handler.
#[derive(Debug, Default)]
pub struct HandlerMetrics {
    delivered: AtomicU64,
    suppressed: AtomicU64,
    logged: AtomicU64,
    retried: AtomicU64,
    dropped: AtomicU64,
    failed: [AtomicU64; FailReason::ALL.len()],
    latency_buckets: [AtomicU64; LATENCY_BUCKETS_MS.len()],
    latency_count: AtomicU64,
    latency_sum_us: AtomicU64,
}

impl HandlerMetrics {
    /// Counts a final outcome; `latency`, for deliveries, is the time from the event's `fire` to
    /// the receiver's answer, its time in the dispatcher's queue and any backoff included (from
    /// the call of [`Instrumented::handle`](crate::Instrumented::handle) for a handler used without a
    /// dispatcher).
    pub fn record(&self, outcome: &Outcome, latency: Option<Duration>) {
        match outcome {
            Outcome::Delivered { .. } => {
                self.delivered.fetch_add(1, Relaxed);
            }
            Outcome::Suppressed => {
                self.suppressed.fetch_add(1, Relaxed);
            }
            Outcome::Logged => {
                self.logged.fetch_add(1, Relaxed);
            }
            Outcome::Failed { reason, .. } => {
                self.failed[reason.index()].fetch_add(1, Relaxed);
            }
        }
        if let Some(l) = latency {
            if let Some(i) = LATENCY_BUCKETS_MS
                .iter()
                .position(|b| l <= Duration::from_millis(*b))
            {
                self.latency_buckets[i].fetch_add(1, Relaxed);
            }
            self.latency_count.fetch_add(1, Relaxed);
            self.latency_sum_us.fetch_add(l.as_micros() as u64, Relaxed);
        }
    }

    /// Counts a retry being scheduled.
    pub fn record_retry(&self) {
        self.retried.fetch_add(1, Relaxed);
    }

    /// Counts an event dropped because the queue was full, the byte budget was spent or the
    /// dispatcher shut down.
    pub fn record_dropped(&self) {
        self.dropped.fetch_add(1, Relaxed);
    }

    /// A consistent-enough copy of the counters.
    pub fn snapshot(&self) -> MetricsSnapshot {
        MetricsSnapshot {
            delivered: self.delivered.load(Relaxed),
            suppressed: self.suppressed.load(Relaxed),
            logged: self.logged.load(Relaxed),
            retried: self.retried.load(Relaxed),
            dropped: self.dropped.load(Relaxed),
            failed: FailReason::ALL.map(|r| (r, self.failed[r.index()].load(Relaxed))),
            latency_buckets: std::array::from_fn(|i| {
                (LATENCY_BUCKETS_MS[i], self.latency_buckets[i].load(Relaxed))
            }),
            latency_count: self.latency_count.load(Relaxed),
            latency_sum: Duration::from_micros(self.latency_sum_us.load(Relaxed)),
        }
    }
}

/// The counters of one handler at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricsSnapshot {
    /// Events the receiver accepted.
    pub delivered: u64,
    /// Events suppressed by the cool-down.
    pub suppressed: u64,
    /// Events written to the log (log handlers).
    pub logged: u64,
    /// Retries scheduled.
    pub retried: u64,
    /// Events dropped before delivery (queue full, byte budget spent or shut down).
    pub dropped: u64,
    /// Failures by reason.
    pub failed: [(FailReason, u64); FailReason::ALL.len()],
    /// Delivery latency histogram, from `fire` to the receiver's answer: (upper bound in ms, count
    /// of deliveries that took more than the previous bound and at most this one, not cumulative).
    pub latency_buckets: [(u64, u64); LATENCY_BUCKETS_MS.len()],
    /// Deliveries timed.
    pub latency_count: u64,
    /// Their total time.
    pub latency_sum: Duration,
}

impl MetricsSnapshot {
    /// Failures of every reason.
    pub fn failed_total(&self) -> u64 {
        self.failed.iter().map(|(_, n)| n).sum()
    }

    /// Failures of one reason.
    pub fn failed(&self, reason: FailReason) -> u64 {
        self.failed[reason.index()].1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bucket_of(latency: Duration) -> Option<u64> {
        let m = HandlerMetrics::default();
        let delivered = Outcome::Delivered {
            status: 200,
            attempts: 1,
        };
        m.record(&delivered, Some(latency));
        let s = m.snapshot();
        assert_eq!(s.latency_count, 1);
        assert_eq!(s.latency_sum.as_micros(), latency.as_micros());
        let mut hit = s.latency_buckets.iter().filter(|(_, n)| *n > 0);
        let bucket = hit.next().map(|(bound, n)| {
            assert_eq!(*n, 1);
            *bound
        });
        assert_eq!(hit.next(), None);
        bucket
    }

    #[test]
    fn latency_rounds_up_into_its_bucket() {
        assert_eq!(bucket_of(Duration::from_micros(1900)), Some(5));
        assert_eq!(bucket_of(Duration::from_millis(1)), Some(1));
        assert_eq!(bucket_of(Duration::from_nanos(1_000_100)), Some(5));
        assert_eq!(bucket_of(Duration::ZERO), Some(1));
        assert_eq!(bucket_of(Duration::from_micros(5001)), Some(10));
        assert_eq!(bucket_of(Duration::from_secs(10)), Some(10_000));
        assert_eq!(bucket_of(Duration::from_micros(10_000_001)), None);
    }
}
