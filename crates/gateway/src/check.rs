//! `hookshot check`: loads and validates a gateway configuration, every API definition in its
//! `app_path`, every handler and every template, and reports every error, not just the first.

use std::path::Path;

use hookshot_event::{ConfigErrors, EventHandlers};

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
    let loaded = match config::load(conf) {
        Ok(l) => Some(l),
        Err(e) => {
            errors.extend(e);
            None
        }
    };
    // Even when the configuration has mistakes, check the API definitions it names.
    let app_path = match &loaded {
        Some(l) => l.config.app_path.clone(),
        None => std::fs::read_to_string(conf)
            .ok()
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
            .and_then(|d| {
                d.get("app_path")
                    .and_then(|p| p.as_str())
                    .map(str::to_owned)
            })
            .unwrap_or_default(),
    };
    let probe = LoadedConfig {
        config: config::Config {
            app_path,
            ..loaded
                .as_ref()
                .map(|l| l.config.clone())
                .unwrap_or_default()
        },
        global_handlers: EventHandlers::default(),
        name: conf.display().to_string(),
        base_dir: Some(
            conf.parent()
                .filter(|p| !p.as_os_str().is_empty())
                .map_or_else(|| ".".into(), Path::to_path_buf),
        ),
    };
    let apis = match crate::server::load_apis(&probe) {
        Ok(apis) => Some(apis),
        Err(e) => {
            errors.extend(e);
            None
        }
    };
    if let (Some(loaded), Some(apis)) = (&loaded, &apis) {
        check_handlers(loaded, apis, &mut errors);
    }
    let checked = Checked {
        global: loaded.map(|l| l.global_handlers).unwrap_or_default(),
        apis: apis
            .map(|set| {
                set.iter()
                    .map(|a| (a.file.clone(), a.id().to_owned(), a.handlers.clone()))
                    .collect()
            })
            .unwrap_or_default(),
    };
    errors.into_result(checked)
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
