//! What the webhook engine's integration tests share: a renderer, handlers on the real HTTP
//! transport, the in-memory store and a key-failure event. Each test file uses some of it.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use hookshot_config::{WebhookConfig, WebhookConfigBuilder};
use hookshot_cooldown::MemoryStore;
use hookshot_core::TargetUrl;
use hookshot_event::{Event, EventMeta, EventType, KeyFailureMeta};
use hookshot_transport::{HttpTransport, HttpTransportConfig};
use hookshot_webhook::{
    CooldownStore, Instrumented, RenderError, Renderer, Transport, WebhookHandler,
};
use http::Method;

/// Renders the event's type, path and key as JSON: enough to tell events apart.
pub struct JsonRenderer;

impl Renderer for JsonRenderer {
    fn content_type(&self) -> Option<&'static str> {
        Some("application/json")
    }

    fn render(&self, event: &Event) -> Result<String, RenderError> {
        let meta = event.meta.to_json();
        Ok(serde_json::json!({"event": event.event_type, "path": meta["Path"], "key": meta["Key"]}).to_string())
    }
}

pub fn builder(url: &str, method: Method) -> WebhookConfigBuilder {
    WebhookConfig::builder(method, TargetUrl::parse(url).unwrap()).id("test")
}

pub fn config(url: &str, method: Method) -> WebhookConfig {
    builder(url, method).build().unwrap()
}

pub fn transport() -> Arc<dyn Transport> {
    Arc::new(HttpTransport::new(HttpTransportConfig::default()).unwrap())
}

pub fn memory() -> Arc<dyn CooldownStore> {
    Arc::new(MemoryStore::new())
}

pub fn webhook(config: WebhookConfig, store: Arc<dyn CooldownStore>) -> WebhookHandler {
    WebhookHandler::new(config, Arc::new(JsonRenderer), store, transport())
}

/// A handler used without a dispatcher, with counters of its own.
pub fn handler(
    config: WebhookConfig,
    store: Arc<dyn CooldownStore>,
) -> Instrumented<WebhookHandler> {
    Instrumented::new(webhook(config, store))
}

pub fn auth_failure(key: &str) -> Event {
    Event::new(
        EventType::AuthFailure,
        EventMeta::KeyFailure(KeyFailureMeta {
            message: "Auth Failure".into(),
            path: "/orders/".into(),
            key: key.into(),
            ..Default::default()
        }),
    )
}

pub const WAIT: Duration = Duration::from_secs(10);
