//! `LogHandler`: Tyk's `eh_log_handler`, writing `<prefix>:<EventType>` to the log.

use async_trait::async_trait;
use hookshot_core::{Event, EventHandler, Outcome, Pending, Step};

/// Writes each event to the log through `tracing` (target `hookshot::events`).
#[derive(Debug, Default)]
pub struct LogHandler {
    prefix: String,
    label: String,
}

impl LogHandler {
    /// A log handler writing `<prefix>:<EventType>`.
    pub fn new(prefix: impl Into<String>) -> LogHandler {
        let prefix = prefix.into();
        LogHandler {
            label: format!("log:{prefix}"),
            prefix,
        }
    }

    /// The same handler under another label (in metrics) than `log:<prefix>`.
    pub fn with_label(mut self, label: impl Into<String>) -> LogHandler {
        self.label = label.into();
        self
    }
}

#[async_trait]
impl EventHandler for LogHandler {
    fn label(&self) -> &str {
        &self.label
    }

    async fn start(&self, event: &Event) -> Step {
        tracing::info!(
            target: "hookshot::events",
            event = %event.event_type,
            api = event.api.as_ref().map(|a| a.id.as_str()).unwrap_or(""),
            message = event.meta.message(),
            "{}:{}",
            self.prefix,
            event.event_type
        );
        Step::Done(Outcome::Logged)
    }

    async fn resume(&self, _pending: Pending) -> Step {
        Step::Done(Outcome::Logged)
    }
}
