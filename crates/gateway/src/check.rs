//! `hookshot check`: loads and validates a gateway configuration, every API definition in its
//! `app_path`, every handler and every template, and reports every error, not just the first.

use std::path::Path;

use hookshot_config::{ConfigErrors, EventHandlers, Location};

use crate::api::ApiSet;
use crate::config::{self, LoadedConfig};

/// What a configuration holds, once it checks out.
#[derive(Debug, Default)]
pub struct Checked {
    /// Global handlers, from the gateway configuration's `event_handlers`.
    pub global: EventHandlers,
    /// Each served API definition's file, `api_id` and handlers.
    pub apis: Vec<(String, String, EventHandlers)>,
}

/// Checks the configuration file at `conf`.
pub fn check(conf: &Path) -> Result<Checked, ConfigErrors> {
    let mut errors = ConfigErrors::default();
    // Even when the configuration has mistakes, check the API definitions it names, and the
    // handlers and templates of every API (and global handler) that loads.
    let probe = match config::load(conf) {
        Ok(l) => l,
        Err(e) => {
            errors.extend(e);
            probe(conf)
        }
    };
    let apis = match probe.app_dir() {
        Some(dir) if !probe.config.app_path.is_empty() => {
            let (l, e) = crate::api::load_dir_lenient(&dir);
            errors.extend(e);
            l.apis
        }
        _ => ApiSet::default(),
    };
    check_handlers(&probe, &apis, &mut errors);
    let checked = Checked {
        global: probe.global_handlers,
        apis: apis
            .iter()
            .map(|a| (a.file.clone(), a.id().to_owned(), a.handlers.clone()))
            .collect(),
    };
    errors.into_result(checked)
}

/// What can be read of a configuration that does not load: `app_path`, `template_path` and the
/// global handlers, when each is sound on its own (their mistakes are already reported).
fn probe(conf: &Path) -> LoadedConfig {
    let doc = std::fs::read_to_string(conf)
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .unwrap_or_default();
    let text = |field: &str| {
        doc.get(field)
            .and_then(|p| p.as_str())
            .map(str::to_owned)
            .unwrap_or_default()
    };
    let name = conf.display().to_string();
    LoadedConfig {
        config: config::GatewayConfig {
            app_path: text("app_path"),
            template_path: text("template_path"),
            ..config::GatewayConfig::default()
        },
        global_handlers: EventHandlers::from_definition(&doc, &Location::file(&name))
            .unwrap_or_default(),
        name,
        base_dir: Some(
            conf.parent()
                .filter(|p| !p.as_os_str().is_empty())
                .map_or_else(|| ".".into(), Path::to_path_buf),
        ),
    }
}

/// Builds every handler and template as the gateway would at start.
fn check_handlers(loaded: &LoadedConfig, apis: &ApiSet, errors: &mut ConfigErrors) {
    let store: std::sync::Arc<dyn hookshot_webhook::CooldownStore> =
        std::sync::Arc::new(hookshot_cooldown::MemoryStore::new());
    let transport = match crate::events::transport(loaded) {
        Ok(t) => t,
        Err(e) => {
            errors.extend(e);
            return;
        }
    };
    if let Err(e) = crate::events::routes(loaded, apis, store, transport) {
        errors.extend(e);
    }
}
