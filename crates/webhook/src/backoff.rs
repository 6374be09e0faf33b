//! Exponential backoff with full jitter, honouring a receiver's `Retry-After` within the cap.

use std::time::Duration;

use hookshot_config::RetryPolicy;

/// How long to wait before the attempt after `attempts` attempts.
///
/// Full jitter: a random time between zero and `initial * 2^(attempts-1)`, capped at `max`.
/// A `Retry-After` from the receiver is honoured, capped at `max` too.
pub(crate) fn delay(
    policy: &RetryPolicy,
    attempts: u32,
    retry_after: Option<Duration>,
) -> Duration {
    let cap = policy.max_backoff;
    if let Some(after) = retry_after {
        return after.min(cap);
    }
    let exp = policy
        .initial_backoff
        .saturating_mul(1u32 << attempts.saturating_sub(1).min(31));
    let ceiling = exp.min(cap);
    // Whole nanoseconds: a ceiling is at most an hour, well within u64.
    let ceiling_ns = u64::try_from(ceiling.as_nanos()).unwrap_or(u64::MAX);
    Duration::from_nanos(rand::random_range(0..=ceiling_ns))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 10,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(1000),
        }
    }

    #[test]
    fn full_jitter_stays_under_the_doubling_ceiling_and_the_cap() {
        for attempts in 1..10 {
            let ceiling = (100u64 << (attempts - 1)).min(1000);
            for _ in 0..200 {
                let d = delay(&policy(), attempts, None);
                assert!(d <= Duration::from_millis(ceiling), "{attempts}: {d:?}");
            }
        }
    }

    #[test]
    fn jitter_spreads_the_delays() {
        let delays: std::collections::HashSet<_> =
            (0..50).map(|_| delay(&policy(), 4, None)).collect();
        assert!(delays.len() > 10, "{delays:?}");
    }

    #[test]
    fn retry_after_is_honoured_within_the_cap() {
        assert_eq!(
            delay(&policy(), 1, Some(Duration::from_millis(700))),
            Duration::from_millis(700)
        );
        assert_eq!(
            delay(&policy(), 1, Some(Duration::from_secs(60))),
            Duration::from_millis(1000)
        );
    }
}
