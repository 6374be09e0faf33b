//! The gateway's counters, rendered in Prometheus' text format at `GET /metrics`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Requests by API and status, events fired by type, storage and upstream failures.
#[derive(Debug, Default)]
pub struct Metrics {
    /// By API, then by status: looked up by `&str`, so counting a request allocates nothing once
    /// its API and status have been seen.
    requests: Mutex<BTreeMap<String, BTreeMap<u16, u64>>>,
    events: Mutex<BTreeMap<String, u64>>,
    storage_errors: AtomicU64,
    upstream_errors: AtomicU64,
    reloads: Mutex<(u64, u64)>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Metrics {
    /// Counts a request answered with `status` for `api` (`""` for the gateway's own endpoints
    /// and paths no API serves).
    pub fn request(&self, api: &str, status: u16) {
        let mut requests = lock(&self.requests);
        let by_status = match requests.get_mut(api) {
            Some(by_status) => by_status,
            None => requests.entry(api.to_owned()).or_default(),
        };
        *by_status.entry(status).or_default() += 1;
    }

    /// Counts an event fired.
    pub fn event(&self, event_type: &str) {
        let mut events = lock(&self.events);
        match events.get_mut(event_type) {
            Some(n) => *n += 1,
            None => {
                events.insert(event_type.to_owned(), 1);
            }
        }
    }

    /// Counts a storage failure.
    pub fn storage_error(&self) {
        self.storage_errors.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts an upstream that could not be reached.
    pub fn upstream_error(&self) {
        self.upstream_errors.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a reload, successful or refused.
    pub fn reload(&self, ok: bool) {
        let mut r = lock(&self.reloads);
        if ok {
            r.0 += 1;
        } else {
            r.1 += 1;
        }
    }

    /// How many requests `api` answered with `status`.
    pub fn requests(&self, api: &str, status: u16) -> u64 {
        lock(&self.requests)
            .get(api)
            .and_then(|by_status| by_status.get(&status))
            .copied()
            .unwrap_or(0)
    }

    /// How many events of `event_type` were fired.
    pub fn events(&self, event_type: &str) -> u64 {
        lock(&self.events).get(event_type).copied().unwrap_or(0)
    }

    /// The counters in Prometheus' text format.
    pub fn render(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "# HELP hookshot_requests_total Requests answered, by API (empty: none) and status.\n# TYPE hookshot_requests_total counter"
        );
        for (api, by_status) in lock(&self.requests).iter() {
            for (status, n) in by_status {
                let _ = writeln!(
                    out,
                    "hookshot_requests_total{{api=\"{}\",status=\"{status}\"}} {n}",
                    escape(api)
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP hookshot_events_fired_total Events fired, by type.\n# TYPE hookshot_events_fired_total counter"
        );
        for (event, n) in lock(&self.events).iter() {
            let _ = writeln!(
                out,
                "hookshot_events_fired_total{{event=\"{}\"}} {n}",
                escape(event)
            );
        }
        let _ = writeln!(
            out,
            "# HELP hookshot_storage_errors_total Requests that failed because storage did not answer.\n# TYPE hookshot_storage_errors_total counter\nhookshot_storage_errors_total {}",
            self.storage_errors.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP hookshot_upstream_errors_total Requests whose upstream could not be reached.\n# TYPE hookshot_upstream_errors_total counter\nhookshot_upstream_errors_total {}",
            self.upstream_errors.load(Ordering::Relaxed)
        );
        let (ok, refused) = *lock(&self.reloads);
        let _ = writeln!(
            out,
            "# HELP hookshot_reloads_total API definition reloads, by result.\n# TYPE hookshot_reloads_total counter\nhookshot_reloads_total{{result=\"ok\"}} {ok}\nhookshot_reloads_total{{result=\"refused\"}} {refused}"
        );
    }
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Appends the webhook dispatcher's counters: queue, and per handler delivered, suppressed,
/// logged, retried, dropped, failed by reason, and the delivery latency histogram.
pub fn render_dispatcher(m: &hookshot_webhook::DispatcherMetrics, out: &mut String) {
    let _ = writeln!(
        out,
        "# HELP hookshot_webhook_queue_depth Webhook jobs waiting for a delivery slot.\n# TYPE hookshot_webhook_queue_depth gauge\nhookshot_webhook_queue_depth {}",
        m.queue_depth
    );
    let _ = writeln!(
        out,
        "# HELP hookshot_webhook_queue_capacity The webhook queue's capacity.\n# TYPE hookshot_webhook_queue_capacity gauge\nhookshot_webhook_queue_capacity {}",
        m.queue_capacity
    );
    let _ = writeln!(
        out,
        "# HELP hookshot_webhook_waiting_retries Webhook retries waiting for their backoff.\n# TYPE hookshot_webhook_waiting_retries gauge\nhookshot_webhook_waiting_retries {}",
        m.waiting_retries
    );
    let _ = writeln!(
        out,
        "# HELP hookshot_webhook_max_waiting_retries The most webhook retries that may wait at once.\n# TYPE hookshot_webhook_max_waiting_retries gauge\nhookshot_webhook_max_waiting_retries {}",
        m.max_waiting_retries
    );
    let _ = writeln!(
        out,
        "# HELP hookshot_webhook_queued_bytes Estimated bytes of webhook events held and of waiting retries' requests.\n# TYPE hookshot_webhook_queued_bytes gauge\nhookshot_webhook_queued_bytes {}",
        m.queued_bytes
    );
    let _ = writeln!(
        out,
        "# HELP hookshot_webhook_max_queued_bytes The byte budget of hookshot_webhook_queued_bytes.\n# TYPE hookshot_webhook_max_queued_bytes gauge\nhookshot_webhook_max_queued_bytes {}",
        m.max_queued_bytes
    );
    let _ = writeln!(
        out,
        "# HELP hookshot_webhook_dropped_over_budget_total Webhook jobs dropped because their event would pass the byte budget (also in dropped_total).\n# TYPE hookshot_webhook_dropped_over_budget_total counter\nhookshot_webhook_dropped_over_budget_total {}",
        m.dropped_over_budget
    );
    let _ = writeln!(
        out,
        "# HELP hookshot_webhook_outstanding Webhook jobs queued, running or waiting to retry.\n# TYPE hookshot_webhook_outstanding gauge\nhookshot_webhook_outstanding {}",
        m.outstanding
    );
    let _ = writeln!(
        out,
        "# HELP hookshot_webhook_dropped_total Webhook jobs dropped (queue full, byte budget spent or shutting down).\n# TYPE hookshot_webhook_dropped_total counter\nhookshot_webhook_dropped_total {}",
        m.dropped
    );
    type Counter = (
        &'static str,
        &'static str,
        fn(&hookshot_webhook::MetricsSnapshot) -> u64,
    );
    let counters: [Counter; 5] = [
        ("delivered", "Webhooks the receiver accepted.", |s| {
            s.delivered
        }),
        ("suppressed", "Webhooks suppressed by the cool-down.", |s| {
            s.suppressed
        }),
        (
            "logged",
            "Events written to the log by log handlers.",
            |s| s.logged,
        ),
        ("retried", "Webhook retries scheduled.", |s| s.retried),
        (
            "handler_dropped",
            "Webhooks dropped before delivery, per handler.",
            |s| s.dropped,
        ),
    ];
    let labels = |h: &hookshot_webhook::HandlerReport| {
        format!(
            "api=\"{}\",event=\"{}\",handler=\"{}\"",
            escape(h.api_id.as_deref().unwrap_or("")),
            escape(h.event.as_str()),
            escape(&h.label)
        )
    };
    for (name, help, get) in counters {
        let _ = writeln!(
            out,
            "# HELP hookshot_webhook_{name}_total {help}\n# TYPE hookshot_webhook_{name}_total counter"
        );
        for h in &m.handlers {
            let _ = writeln!(
                out,
                "hookshot_webhook_{name}_total{{{}}} {}",
                labels(h),
                get(&h.metrics)
            );
        }
    }
    let _ = writeln!(
        out,
        "# HELP hookshot_webhook_failed_total Webhooks that failed, by reason.\n# TYPE hookshot_webhook_failed_total counter"
    );
    for h in &m.handlers {
        for (reason, n) in &h.metrics.failed {
            let _ = writeln!(
                out,
                "hookshot_webhook_failed_total{{{},reason=\"{}\"}} {n}",
                labels(h),
                reason.as_str()
            );
        }
    }
    let _ = writeln!(
        out,
        "# HELP hookshot_webhook_latency_seconds Time from firing to delivery.\n# TYPE hookshot_webhook_latency_seconds histogram"
    );
    for h in &m.handlers {
        let l = labels(h);
        let mut cumulative = 0;
        for (bound_ms, n) in &h.metrics.latency_buckets {
            cumulative += n;
            let _ = writeln!(
                out,
                "hookshot_webhook_latency_seconds_bucket{{{l},le=\"{}\"}} {cumulative}",
                *bound_ms as f64 / 1000.0
            );
        }
        let _ = writeln!(
            out,
            "hookshot_webhook_latency_seconds_bucket{{{l},le=\"+Inf\"}} {}\nhookshot_webhook_latency_seconds_sum{{{l}}} {}\nhookshot_webhook_latency_seconds_count{{{l}}} {}",
            h.metrics.latency_count,
            h.metrics.latency_sum.as_secs_f64(),
            h.metrics.latency_count
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_prometheus_text() {
        let m = Metrics::default();
        m.request("orders", 200);
        m.request("orders", 200);
        m.request("", 404);
        m.event("AuthFailure");
        let mut out = String::new();
        m.render(&mut out);
        assert!(
            out.contains("hookshot_requests_total{api=\"orders\",status=\"200\"} 2\n"),
            "{out}"
        );
        assert!(
            out.contains("hookshot_requests_total{api=\"\",status=\"404\"} 1\n"),
            "{out}"
        );
        assert!(
            out.contains("hookshot_events_fired_total{event=\"AuthFailure\"} 1\n"),
            "{out}"
        );
    }
}
