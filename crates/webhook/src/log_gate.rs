//! Logging without flooding: at most one line per interval, saying how many were held back.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Lets one log line through per interval and counts the others.
#[derive(Debug)]
pub struct LogGate {
    interval: Duration,
    state: Mutex<(Option<Instant>, u64)>,
}

impl LogGate {
    /// A gate letting one line through per `interval`.
    pub fn new(interval: Duration) -> LogGate {
        LogGate {
            interval,
            state: Mutex::new((None, 0)),
        }
    }

    /// `Some(held back since the last line)` when a line may be written now.
    pub fn allow(&self) -> Option<u64> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        match state.0 {
            Some(last) if now.duration_since(last) < self.interval => {
                state.1 += 1;
                None
            }
            _ => {
                let held = state.1;
                *state = (Some(now), 0);
                Some(held)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_per_interval_with_a_count() {
        let gate = LogGate::new(Duration::from_secs(3600));
        assert_eq!(gate.allow(), Some(0));
        assert_eq!(gate.allow(), None);
        assert_eq!(gate.allow(), None);
        let gate0 = LogGate::new(Duration::ZERO);
        assert_eq!(gate0.allow(), Some(0));
        assert_eq!(gate0.allow(), Some(0));
    }
}
