//! The webhook side of the gateway: the handlers of the configuration and of every API, built
//! into the webhook engine's [`Routes`] and delivered by its [`Dispatcher`].
//!
//! [`routes`] is the one function that turns a loaded configuration and its APIs into routes; it
//! runs at start and again on every reload, so a reload with a broken handler or template is
//! refused before any of it is served.

use std::sync::Arc;
use std::time::Duration;

use hookshot_config::{ConfigError, ConfigErrors, EventHandlers, HandlerConfig, Location};
use hookshot_webhook::{
    CooldownStore, Dispatcher, DispatcherConfig, EventSink, LogHandler, Renderer, Routes,
    Transport, WebhookHandler,
};

use hookshot_template::{Template, lint};

use crate::api::ApiSet;
use crate::config::LoadedConfig;

/// The webhook engine of a running gateway: its routes, cool-down store, transport and dispatcher.
pub struct WebhookEngine {
    dispatcher: Arc<Dispatcher>,
    loaded: LoadedConfig,
    store: Arc<dyn CooldownStore>,
    transport: Arc<dyn Transport>,
}

impl WebhookEngine {
    /// Builds the transport the configuration names and the routes of `apis` on `store` (the
    /// cool-down store [`server::open_storage`](crate::server::open_storage) opened), and starts
    /// the dispatcher on the current tokio runtime.
    pub fn start(
        loaded: &LoadedConfig,
        apis: &ApiSet,
        store: Arc<dyn CooldownStore>,
    ) -> Result<WebhookEngine, ConfigErrors> {
        let transport = transport(loaded)?;
        let routes = routes(loaded, apis, store.clone(), transport.clone())?;
        let h = &loaded.config.hookshot;
        let dispatcher = Dispatcher::start(
            DispatcherConfig {
                queue_capacity: h.queue_capacity,
                max_waiting_retries: h.max_waiting_retries.unwrap_or(h.queue_capacity),
                max_queued_bytes: h.max_queued_bytes,
                concurrency: h.concurrency,
                shutdown_grace: Duration::from_secs(h.shutdown_grace_secs),
            },
            routes,
        );
        Ok(WebhookEngine {
            dispatcher,
            loaded: loaded.clone(),
            store,
            transport,
        })
    }

    /// Where the gateway fires events.
    pub fn sink(&self) -> Arc<dyn EventSink> {
        self.dispatcher.clone()
    }

    /// The dispatcher.
    pub fn dispatcher(&self) -> &Arc<Dispatcher> {
        &self.dispatcher
    }

    /// Rebuilds the routes for a new set of APIs; on a mistake the old routes stay.
    pub fn set_apis(&self, apis: &ApiSet) -> Result<(), ConfigErrors> {
        let routes = routes(
            &self.loaded,
            apis,
            self.store.clone(),
            self.transport.clone(),
        )?;
        self.dispatcher.set_routes(routes);
        Ok(())
    }

    /// Appends the dispatcher's counters in Prometheus' text format.
    pub fn render_metrics(&self, out: &mut String) {
        crate::metrics::render_dispatcher(&self.dispatcher.metrics(), out);
    }

    /// Drains the webhook queue up to the configured grace period.
    pub async fn shutdown(&self) {
        let report = self.dispatcher.shutdown().await;
        if report.abandoned > 0 {
            tracing::warn!(
                abandoned = report.abandoned,
                "webhooks abandoned at shutdown"
            );
        }
    }
}

/// The cool-down store the configuration's `storage` names: in memory, or Tyk's
/// `webhook.cache.<md5>` keys in Redis on a connection of its own (a gateway shares one with keys
/// and limits: [`redis_cooldown_store`]).
pub fn cooldown_store(loaded: &LoadedConfig) -> Result<Arc<dyn CooldownStore>, ConfigErrors> {
    match loaded.config.storage.kind {
        crate::config::StorageType::Memory => Ok(Arc::new(hookshot_cooldown::MemoryStore::new())),
        #[cfg(feature = "redis")]
        crate::config::StorageType::Redis => {
            let redis = crate::store::connect(&loaded.config.storage)
                .map_err(|e| bad_cooldown_store(loaded, &e.0))?;
            redis_cooldown_store(loaded, redis)
        }
        #[cfg(not(feature = "redis"))]
        crate::config::StorageType::Redis => Err(ConfigError::new(
            Location::file(&loaded.name).field("storage.type"),
            "found \"redis\", but this binary was built without the `redis` feature",
            "expected \"memory\"",
        )
        .into()),
    }
}

/// The cool-down store on `redis`, the connection keys and limits use: Tyk's
/// `webhook.cache.<md5>` keys (so an event fired on two nodes is delivered once), with
/// `hookshot.fail_open` deciding what happens while Redis is down. A claim waits for Redis at most
/// `storage.request_deadline_ms`, or the connection's command limit (`storage.timeout_secs`) when
/// that is shorter.
#[cfg(feature = "redis")]
pub fn redis_cooldown_store(
    loaded: &LoadedConfig,
    redis: hookshot_redis::Redis,
) -> Result<Arc<dyn CooldownStore>, ConfigErrors> {
    let policy = if loaded.config.hookshot.fail_open {
        hookshot_cooldown::FailurePolicy::FailOpen
    } else {
        hookshot_cooldown::FailurePolicy::FailClosed
    };
    let config = hookshot_cooldown::RedisConfig::default()
        .with_failure_policy(policy)
        .with_claim_timeout(Duration::from_millis(
            loaded.config.storage.request_deadline_ms.max(1),
        ));
    hookshot_cooldown::RedisStore::on_connection(redis, config)
        .map(|s| Arc::new(s) as Arc<dyn CooldownStore>)
        .map_err(|e| bad_cooldown_store(loaded, &e.to_string()))
}

#[cfg(feature = "redis")]
fn bad_cooldown_store(loaded: &LoadedConfig, found: &str) -> ConfigErrors {
    ConfigError::new(
        Location::file(&loaded.name).field("storage"),
        found,
        "expected Redis settings the cool-down store accepts",
    )
    .into()
}

/// `hookshot.extra_ca_file`, resolved against the configuration's folder.
fn extra_ca_file(loaded: &LoadedConfig) -> Option<std::path::PathBuf> {
    let file = &loaded.config.hookshot.extra_ca_file;
    (!file.is_empty()).then(|| loaded.base_dir.clone().unwrap_or_default().join(file))
}

fn bad_ca_file(loaded: &LoadedConfig, e: &hookshot_transport::Error) -> ConfigErrors {
    ConfigError::new(
        Location::file(&loaded.name).field("hookshot.extra_ca_file"),
        e.to_string(),
        "expected a readable PEM file of CA certificates",
    )
    .into()
}

/// The TLS settings of the gateway's upstream connections: the same roots and extra CA file as
/// the webhook transport's, so one `extra_ca_file` serves both.
pub fn upstream_tls(loaded: &LoadedConfig) -> Result<rustls::ClientConfig, ConfigErrors> {
    hookshot_transport::tls_client_config(extra_ca_file(loaded).as_deref())
        .map_err(|e| bad_ca_file(loaded, &e))
}

/// The HTTP transport of the `hookshot` section.
pub fn transport(loaded: &LoadedConfig) -> Result<Arc<dyn Transport>, ConfigErrors> {
    let h = &loaded.config.hookshot;
    let extra_ca_file = extra_ca_file(loaded);
    let config = hookshot_transport::HttpTransportConfig {
        connect_timeout: Duration::from_secs(h.connect_timeout_secs.max(1)),
        request_timeout: Duration::from_secs(h.request_timeout_secs.max(1)),
        extra_ca_file,
        ..hookshot_transport::HttpTransportConfig::default()
    };
    hookshot_transport::HttpTransport::new(config)
        .map(|t| Arc::new(t) as Arc<dyn Transport>)
        .map_err(|e| bad_ca_file(loaded, &e))
}

/// The webhook engine's routes for a configuration's global handlers and the handlers of `apis`;
/// every handler or template that cannot be built is reported.
///
/// Each handler is labelled in logs and `/metrics` by its `id`, else its `name`, else
/// `METHOD scheme://host[:port]` (never user-info, path or query: a webhook's path is often its
/// secret). Handlers of one API and event whose labels would be the same get ` #2`, ` #3`, ... in
/// the order configured, so that each keeps series of its own.
pub fn routes(
    loaded: &LoadedConfig,
    apis: &ApiSet,
    store: Arc<dyn CooldownStore>,
    transport: Arc<dyn Transport>,
) -> Result<Routes, ConfigErrors> {
    let mut routes = Routes::default();
    let mut errors = ConfigErrors::default();
    let mut add = |handlers: &EventHandlers, at: Location, api: Option<&str>| {
        let mut index: std::collections::BTreeMap<&hookshot_event::EventType, usize> =
            Default::default();
        let mut labels: std::collections::HashMap<(&hookshot_event::EventType, String), usize> =
            Default::default();
        for (event, handler) in handlers.iter() {
            let i = index.entry(event).or_default();
            let here = at.clone().event(event.as_str()).handler(*i);
            *i += 1;
            let label = match handler {
                HandlerConfig::Log(log) => format!("log:{}", log.prefix),
                HandlerConfig::Webhook(config) => config.label(),
            };
            let seen = labels.entry((event, label.clone())).or_default();
            *seen += 1;
            let label = match *seen {
                1 => label,
                n => format!("{label} #{n}"),
            };
            let built: Result<Arc<dyn hookshot_webhook::EventHandler>, ConfigError> = match handler
            {
                HandlerConfig::Log(log) => Ok(Arc::new(
                    LogHandler::new(log.prefix.clone()).with_label(label),
                )),
                HandlerConfig::Webhook(config) => webhook_renderer(loaded, config, event, &here)
                    .map(|r| {
                        let h = WebhookHandler::new(
                            config.clone(),
                            r,
                            store.clone(),
                            transport.clone(),
                        );
                        Arc::new(h.with_label(label)) as Arc<dyn hookshot_webhook::EventHandler>
                    }),
            };
            match built {
                Ok(h) => match api {
                    Some(id) => {
                        routes.add_api(id, event.clone(), h);
                    }
                    None => {
                        routes.add_global(event.clone(), h);
                    }
                },
                Err(e) => errors.push(e),
            }
        }
    };
    add(&loaded.global_handlers, Location::file(&loaded.name), None);
    for api in apis.iter() {
        add(
            &api.handlers,
            Location::file(&api.file).api(api.id()),
            Some(api.id()),
        );
    }
    errors.into_result(routes)
}

/// The renderer for a handler's `template_path` (`None`: the shipped default template); it also
/// gives the requests' `Content-Type` (JSON for the default and `.json` templates). A relative path is looked up beside the configuration file, then in
/// `template_path`, then among the shipped templates; the template is linted against the event it
/// is attached to, so a template that cannot render it stops the start. A liquid template whose
/// handler's `header_map` declares a JSON `Content-Type` escapes its values as JSON.
fn webhook_renderer(
    loaded: &LoadedConfig,
    config: &hookshot_config::WebhookConfig,
    event: &hookshot_event::EventType,
    at: &Location,
) -> Result<Arc<dyn Renderer>, ConfigError> {
    let template_path = config.template();
    let bad = |found: String, expected: &str| {
        ConfigError::new(
            at.clone().field("handler_meta.template_path"),
            found,
            expected,
        )
    };
    let template = match template_path {
        None => Template::default_webhook(),
        Some(spec) => {
            let path = std::path::Path::new(spec);
            let candidates = [
                loaded.base_dir.as_ref().map(|b| b.join(path)),
                loaded.template_dir().map(|d| d.join(path)),
                loaded
                    .template_dir()
                    .and_then(|d| path.file_name().map(|f| d.join(f))),
            ];
            let found = candidates.into_iter().flatten().find(|p| p.is_file());
            let result = match found {
                Some(file) => Template::from_file(file),
                None => Template::load(spec),
            };
            result.map_err(|e| {
                bad(
                    format!("found {spec:?}, which cannot be used ({e})"),
                    "expected a readable template file (beside the configuration or in `template_path`) or a shipped template name",
                )
            })?
        }
    };
    let template = match declared_json(config.headers()) {
        Some(content_type) => template.for_json_body().map_err(|e| {
            ConfigError::new(
                at.clone().field("handler_meta.header_map"),
                format!(
                    "found Content-Type {content_type:?}, so the template's values are escaped as JSON, and then it cannot be used ({e})"
                ),
                "expected a template that can be escaped as JSON, or another Content-Type",
            )
        })?,
        None => template,
    };
    if let Some(problem) = lint(&template, std::slice::from_ref(event))
        .into_iter()
        .next()
    {
        return Err(bad(
            format!("the template {} {}", template.name(), problem.problem),
            "expected a template that renders this event",
        ));
    }
    Ok(Arc::new(template))
}

/// The `Content-Type` a handler's `header_map` sets, when it is JSON (`application/json` or a
/// `+json` type, parameters aside).
fn declared_json(headers: &http::HeaderMap) -> Option<&str> {
    headers
        .get_all(http::header::CONTENT_TYPE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find(|value| {
            let media = value
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            media == "application/json" || media.ends_with("+json")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A directory of the test's own, removed when dropped.
    struct Dir(std::path::PathBuf);

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn handler(template_path: Option<&str>) -> serde_json::Value {
        let mut meta = serde_json::json!({
            "method": "POST", "target_path": "http://127.0.0.1:9/hook", "event_timeout": 0
        });
        if let Some(t) = template_path {
            meta["template_path"] = t.into();
        }
        serde_json::json!([{"handler_name": "eh_web_hook_handler", "handler_meta": meta}])
    }

    #[tokio::test]
    async fn a_missing_custom_template_is_refused_when_the_handlers_are_assembled() {
        let dir = Dir(std::env::temp_dir().join(format!(
            "hookshot-events-missing-template-{}",
            std::process::id()
        )));
        std::fs::create_dir_all(dir.0.join("templates")).unwrap();
        std::fs::write(
            dir.0.join("templates/present.json"),
            "{\"t\": \"{{ Type }}\"}",
        )
        .unwrap();
        let loaded = crate::config::parse(
            r#"{"app_path": "apps/", "template_path": "templates"}"#,
            "gw.conf",
            Some(dir.0.clone()),
        )
        .unwrap();
        let api = serde_json::json!({
            "name": "Reports", "api_id": "reports", "org_id": "o", "active": true,
            "auth": {"auth_header_name": "Authorization"},
            "proxy": {"listen_path": "/reports/", "target_url": "http://127.0.0.1:9/"},
            "event_handlers": {"events": {
                "AuthFailure": handler(Some("templates/present.json")),
                "KeyExpired": handler(None),
                "QuotaExceeded": handler(Some("templates/missing.json")),
            }}
        });
        let apis = ApiSet::new(vec![
            crate::api::parse(&api.to_string(), "apps/reports.json").unwrap(),
        ]);
        let store: Arc<dyn CooldownStore> = Arc::new(hookshot_cooldown::MemoryStore::new());
        let transport: Arc<dyn Transport> = Arc::new(
            hookshot_transport::HttpTransport::new(
                hookshot_transport::HttpTransportConfig::default(),
            )
            .unwrap(),
        );
        let errors: Vec<String> = match routes(&loaded, &apis, store.clone(), transport.clone()) {
            Ok(_) => panic!("a handler whose template is missing was assembled"),
            Err(e) => e.iter().map(ToString::to_string).collect(),
        };
        assert_eq!(errors.len(), 1, "{errors:#?}");
        // The message names the file, API, event, handler and field, the value and why it cannot
        // be used (the OS's words in between), and what would be accepted.
        let (found, expected) = errors[0].split_once("; expected ").unwrap();
        assert!(
            found.starts_with(
                "apps/reports.json, API \"reports\", event \"QuotaExceeded\", handler #0, \
                 field `handler_meta.template_path`: found \"templates/missing.json\", which \
                 cannot be used (templates/missing.json: cannot read the template: "
            ),
            "{found}"
        );
        assert_eq!(
            expected,
            "a readable template file (beside the configuration or in `template_path`) or a shipped template name"
        );

        // Without the missing template, the same API's handlers are assembled.
        let mut api = api;
        api["event_handlers"]["events"]
            .as_object_mut()
            .unwrap()
            .remove("QuotaExceeded");
        let apis = ApiSet::new(vec![
            crate::api::parse(&api.to_string(), "apps/reports.json").unwrap(),
        ]);
        assert!(routes(&loaded, &apis, store, transport).is_ok());
    }
}
