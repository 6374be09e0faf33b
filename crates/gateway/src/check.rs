//! Loading and validating a gateway configuration and its API definitions, reporting every error.

use std::path::{Path, PathBuf};

use hookshot_event::{ConfigError, ConfigErrors, EventHandlers, Location, describe, parse_json};
use serde_json::Value;

/// The handlers found in a configuration and its API definitions.
#[derive(Debug, Default)]
pub struct Checked {
    /// Global handlers, from the gateway configuration's `event_handlers`.
    pub global: EventHandlers,
    /// Each API definition's file, `api_id` and handlers.
    pub apis: Vec<(PathBuf, String, EventHandlers)>,
}

/// Reads the gateway configuration at `conf` and every `*.json` in its `app_path`
/// (relative to the configuration's folder), returning all errors found, not just the first.
pub fn check(conf: &Path) -> Result<Checked, ConfigErrors> {
    let mut errors = ConfigErrors::default();
    let mut out = Checked::default();
    let conf_name = conf.display().to_string();
    let doc = read_json(conf)?;
    match EventHandlers::from_definition(&doc, &Location::file(&conf_name)) {
        Ok(h) => out.global = h,
        Err(e) => errors.extend(e),
    }
    if let Some(app_path) = doc.get("app_path") {
        match app_path.as_str() {
            Some(p) if !p.is_empty() => {
                let dir = conf.parent().unwrap_or(Path::new(".")).join(p);
                check_apps(&dir, &mut out, &mut errors);
            }
            _ => errors.push(ConfigError::new(
                Location::file(&conf_name).field("app_path"),
                format!("found {}", describe(app_path)),
                "expected the path of a folder of API definitions",
            )),
        }
    }
    errors.into_result(out)
}

fn check_apps(dir: &Path, out: &mut Checked, errors: &mut ConfigErrors) {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            errors.push(ConfigError::new(
                Location::file(dir.display().to_string()),
                format!("the folder cannot be read ({e})"),
                "expected `app_path` to name a readable folder of API definitions",
            ));
            return;
        }
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    for file in files {
        let name = file.display().to_string();
        let doc = match read_json(&file) {
            Ok(doc) => doc,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        let api_id = doc
            .get("api_id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let mut at = Location::file(&name);
        if !api_id.is_empty() {
            at = at.api(&api_id);
        }
        match EventHandlers::from_definition(&doc, &at) {
            Ok(h) => out.apis.push((file, api_id, h)),
            Err(e) => errors.extend(e),
        }
    }
}

fn read_json(path: &Path) -> Result<Value, ConfigError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        ConfigError::new(
            Location::file(&name),
            format!("the file cannot be read ({e})"),
            "expected a readable JSON file",
        )
    })?;
    parse_json(&text, &name)
}
