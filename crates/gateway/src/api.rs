//! API definitions: every `*.json` in `app_path`, Tyk's classic format, unknown fields ignored.
//!
//! Used fields: `api_id`, `name`, `org_id`, `active` (an inactive API is not served; a missing
//! `active` counts as `true`), `use_keyless`, `auth.auth_header_name` (default `Authorization`),
//! `proxy.listen_path`, `proxy.target_url`, `proxy.strip_listen_path`, `event_handlers`.

use std::path::{Path, PathBuf};

use hookshot_event::{
    ApiRef, ConfigError, ConfigErrors, EventHandlers, Location, TargetUrl, describe, parse_json,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::fields::check_fields;

/// The fields of a classic API definition the gateway reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ApiDefinition {
    /// The API's id, unique in the gateway.
    pub api_id: String,
    /// A human name, reported in events (`API.Name`).
    pub name: String,
    /// The organisation, reported in events (`API.OrgID`).
    pub org_id: String,
    /// Whether the API is served (Tyk reads a missing `active` as false; Hookshot as true).
    pub active: bool,
    /// Whether requests pass without a key.
    pub use_keyless: bool,
    /// Where the key is presented.
    pub auth: AuthConfig,
    /// Where requests come in and where they go.
    pub proxy: ProxyConfig,
}

impl Default for ApiDefinition {
    fn default() -> Self {
        ApiDefinition {
            api_id: String::new(),
            name: String::new(),
            org_id: String::new(),
            active: true,
            use_keyless: false,
            auth: AuthConfig::default(),
            proxy: ProxyConfig::default(),
        }
    }
}

/// `auth`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AuthConfig {
    /// The request header holding the key (any case); `Authorization` by default.
    pub auth_header_name: String,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            auth_header_name: "Authorization".into(),
        }
    }
}

/// `proxy`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ProxyConfig {
    /// The path prefix this API is served under (the longest matching prefix wins).
    pub listen_path: String,
    /// The upstream URL requests are sent to.
    pub target_url: String,
    /// Whether the listen path is removed before the request goes upstream.
    pub strip_listen_path: bool,
}

/// One API as served: its definition, parsed target, handlers and file.
#[derive(Debug, Clone)]
pub struct Api {
    /// The definition.
    pub definition: ApiDefinition,
    /// `proxy.target_url`, checked.
    pub target: TargetUrl,
    /// The API's handlers, from its `event_handlers`.
    pub handlers: EventHandlers,
    /// The file it came from.
    pub file: String,
    /// The API as events report it.
    pub api_ref: ApiRef,
    /// The header holding the key, lower-cased.
    pub auth_header: http::HeaderName,
    /// The upstream's scheme and authority (as `Host` carries it), parsed once; `None` when they
    /// do not parse, and each request then reports the bad URL.
    pub upstream_origin: Option<(http::uri::Scheme, http::uri::Authority)>,
    /// The `Host` header sent upstream, built once; `None` when it is not a valid header value.
    pub upstream_host: Option<http::HeaderValue>,
}

impl Api {
    /// The API's id.
    pub fn id(&self) -> &str {
        &self.definition.api_id
    }

    /// Whether `path` is under this API's listen path.
    pub fn matches(&self, path: &str) -> bool {
        let lp = &self.definition.proxy.listen_path;
        if lp == "/" {
            return true;
        }
        let base = lp.trim_end_matches('/');
        match path.strip_prefix(base) {
            Some(rest) => rest.is_empty() || rest.starts_with('/'),
            None => false,
        }
    }

    /// The upstream path and query for the request path `path` and `query`.
    pub fn upstream_path(&self, path: &str, query: Option<&str>) -> String {
        let proxy = &self.definition.proxy;
        let rest = if proxy.strip_listen_path {
            path.strip_prefix(proxy.listen_path.trim_end_matches('/'))
                .unwrap_or(path)
        } else {
            path
        };
        let target = self.target.uri().path();
        let mut out = String::with_capacity(target.len() + rest.len() + 1);
        out.push_str(target.trim_end_matches('/'));
        if !rest.starts_with('/') {
            out.push('/');
        }
        out.push_str(rest);
        let mut query_parts: Vec<&str> = Vec::new();
        if let Some(q) = self.target.uri().query().filter(|q| !q.is_empty()) {
            query_parts.push(q);
        }
        if let Some(q) = query.filter(|q| !q.is_empty()) {
            query_parts.push(q);
        }
        if !query_parts.is_empty() {
            out.push('?');
            out.push_str(&query_parts.join("&"));
        }
        out
    }
}

/// The APIs served, longest listen path first.
#[derive(Debug, Clone, Default)]
pub struct ApiSet {
    apis: Vec<std::sync::Arc<Api>>,
}

impl ApiSet {
    /// A set of `apis` (inactive ones are kept out by the loader).
    pub fn new(apis: Vec<Api>) -> ApiSet {
        let mut apis: Vec<_> = apis.into_iter().map(std::sync::Arc::new).collect();
        apis.sort_by(|a, b| {
            b.definition
                .proxy
                .listen_path
                .len()
                .cmp(&a.definition.proxy.listen_path.len())
        });
        ApiSet { apis }
    }

    /// The API serving `path`: the one with the longest matching listen path.
    pub fn route(&self, path: &str) -> Option<&std::sync::Arc<Api>> {
        self.apis.iter().find(|a| a.matches(path))
    }

    /// Every API.
    pub fn iter(&self) -> impl Iterator<Item = &std::sync::Arc<Api>> {
        self.apis.iter()
    }

    /// How many APIs are served.
    pub fn len(&self) -> usize {
        self.apis.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.apis.is_empty()
    }
}

/// What loading a folder of API definitions found besides the APIs.
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    /// The APIs to serve.
    pub apis: ApiSet,
    /// The files of inactive APIs, not served.
    pub inactive: Vec<String>,
}

/// Reads every `*.json` in `dir`, reporting every mistake in every file.
pub fn load_dir(dir: &Path) -> Result<Loaded, ConfigErrors> {
    let (loaded, errors) = load_dir_lenient(dir);
    errors.into_result(loaded)
}

/// Reads every `*.json` in `dir` as [`load_dir`] does, but also returns the APIs that loaded when
/// others did not, so that `hookshot check` can go on to check their handlers and templates.
pub fn load_dir_lenient(dir: &Path) -> (Loaded, ConfigErrors) {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            let error = ConfigError::new(
                Location::file(dir.display().to_string()),
                format!("the folder cannot be read ({e})"),
                "expected `app_path` to name a readable folder of API definitions",
            );
            return (Loaded::default(), error.into());
        }
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json") && p.is_file())
        .collect();
    files.sort();
    let mut errors = ConfigErrors::default();
    let mut sources = Vec::new();
    for file in files {
        let name = file.display().to_string();
        match std::fs::read_to_string(&file) {
            Ok(text) => sources.push((name, text)),
            Err(e) => errors.push(ConfigError::new(
                Location::file(&name),
                format!("the file cannot be read ({e})"),
                "expected a readable JSON file",
            )),
        }
    }
    let (loaded, more) = load_sources_lenient(&sources);
    errors.extend(more);
    (loaded, errors)
}

/// Parses API definitions given as `(name, text)` pairs, reporting every mistake, and refuses
/// two active APIs with one `api_id` or one `listen_path`, naming both files.
pub fn load_sources(sources: &[(String, String)]) -> Result<Loaded, ConfigErrors> {
    let (loaded, errors) = load_sources_lenient(sources);
    errors.into_result(loaded)
}

/// [`load_sources`], returning the APIs that loaded beside the mistakes of the others.
fn load_sources_lenient(sources: &[(String, String)]) -> (Loaded, ConfigErrors) {
    let mut errors = ConfigErrors::default();
    let mut out: Vec<Api> = Vec::new();
    let mut inactive = Vec::new();
    for (name, text) in sources {
        match parse(text, name) {
            Ok(api) if !api.definition.active => inactive.push(name.clone()),
            Ok(api) => {
                if let Some(other) = out.iter().find(|a| a.id() == api.id()) {
                    errors.push(ConfigError::new(
                        Location::file(name).api(api.id()).field("api_id"),
                        format!(
                            "found {:?}, already the id of the API in {}",
                            api.id(),
                            other.file
                        ),
                        "expected each API to have its own `api_id`",
                    ));
                    continue;
                }
                let lp = normalise(&api.definition.proxy.listen_path);
                if let Some(other) = out
                    .iter()
                    .find(|a| normalise(&a.definition.proxy.listen_path) == lp)
                {
                    errors.push(ConfigError::new(
                        Location::file(name)
                            .api(api.id())
                            .field("proxy.listen_path"),
                        format!(
                            "found {:?}, already the listen path of API {:?} in {}",
                            api.definition.proxy.listen_path,
                            other.id(),
                            other.file
                        ),
                        "expected each API to have its own listen path",
                    ));
                    continue;
                }
                out.push(api);
            }
            Err(e) => errors.extend(e),
        }
    }
    let loaded = Loaded {
        apis: ApiSet::new(out),
        inactive,
    };
    (loaded, errors)
}

fn normalise(listen_path: &str) -> &str {
    let t = listen_path.trim_end_matches('/');
    if t.is_empty() { "/" } else { t }
}

/// Parses one API definition named `name`, reporting every mistake in it.
pub fn parse(text: &str, name: &str) -> Result<Api, ConfigErrors> {
    let doc = parse_json(text, name)?;
    let Some(obj) = doc.as_object() else {
        return Err(ConfigError::new(
            Location::file(name),
            format!("found {}", describe(&doc)),
            "expected a JSON object (a Tyk classic API definition)",
        )
        .into());
    };
    let api_id = obj
        .get("api_id")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let base = if api_id.is_empty() {
        Location::file(name)
    } else {
        Location::file(name).api(api_id)
    };
    let at = |field: &str| base.clone().field(field);
    let mut errors = ConfigErrors::default();
    check_fields::<ApiDefinition>(obj, "", &["auth", "proxy"], &at, &mut errors);
    for section in ["auth", "proxy"] {
        match obj.get(section) {
            None | Some(Value::Null) => {}
            Some(Value::Object(inner)) if section == "auth" => {
                check_fields::<AuthConfig>(inner, "auth.", &[], &at, &mut errors)
            }
            Some(Value::Object(inner)) => {
                check_fields::<ProxyConfig>(inner, "proxy.", &[], &at, &mut errors)
            }
            Some(other) => errors.push(ConfigError::new(
                at(section),
                format!("found {}", describe(other)),
                "expected a JSON object",
            )),
        }
    }
    let handlers = errors.take(EventHandlers::from_definition(&doc, &base));
    if !errors.is_empty() {
        return Err(errors);
    }
    let definition: ApiDefinition = serde_json::from_value(doc).map_err(|e| {
        ConfigError::new(
            base.clone(),
            e.to_string(),
            "expected a Tyk classic API definition",
        )
    })?;
    if definition.api_id.is_empty() {
        errors.push(ConfigError::new(
            at("api_id"),
            "found nothing",
            "expected the API's id, a non-empty string",
        ));
    }
    let lp = &definition.proxy.listen_path;
    if !lp.starts_with('/') {
        errors.push(ConfigError::new(
            at("proxy.listen_path"),
            format!("found {lp:?}"),
            "expected a path starting with `/`, such as \"/orders/\"",
        ));
    }
    let target = match TargetUrl::parse(&definition.proxy.target_url) {
        Ok(t) => Some(t),
        Err(why) => {
            errors.push(ConfigError::new(
                at("proxy.target_url"),
                format!("found {:?}, but {why}", definition.proxy.target_url),
                "expected an absolute http:// or https:// URL of the upstream",
            ));
            None
        }
    };
    let auth_header =
        match http::HeaderName::from_bytes(definition.auth.auth_header_name.trim().as_bytes()) {
            Ok(h) => Some(h),
            Err(_) => {
                errors.push(ConfigError::new(
                    at("auth.auth_header_name"),
                    format!("found {:?}", definition.auth.auth_header_name),
                    "expected an HTTP header name, such as \"Authorization\"",
                ));
                None
            }
        };
    match (errors.is_empty(), target, auth_header) {
        (true, Some(target), Some(auth_header)) => Ok(Api {
            upstream_origin: target
                .uri()
                .scheme_str()
                .unwrap_or("http")
                .parse()
                .ok()
                .zip(target.host_header().parse().ok()),
            upstream_host: http::HeaderValue::from_str(target.host_header()).ok(),
            api_ref: ApiRef {
                id: definition.api_id.clone(),
                name: definition.name.clone(),
                org_id: definition.org_id.clone(),
            },
            definition,
            target,
            handlers,
            file: name.to_owned(),
            auth_header,
        }),
        _ => Err(errors),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def(id: &str, lp: &str, target: &str) -> String {
        format!(
            r#"{{"api_id": "{id}", "name": "{id} API", "proxy": {{"listen_path": "{lp}", "target_url": "{target}", "strip_listen_path": true}}}}"#
        )
    }

    #[test]
    fn routes_by_longest_listen_path() {
        let loaded = load_sources(&[
            ("a.json".into(), def("a", "/", "http://up/")),
            ("b.json".into(), def("b", "/orders/", "http://up/")),
            ("c.json".into(), def("c", "/orders/special", "http://up/")),
        ])
        .unwrap();
        let route = |p: &str| loaded.apis.route(p).map(|a| a.id().to_owned());
        assert_eq!(route("/orders/special/x").as_deref(), Some("c"));
        assert_eq!(route("/orders/specialist").as_deref(), Some("b"));
        assert_eq!(route("/orders").as_deref(), Some("b"));
        assert_eq!(route("/ordersx").as_deref(), Some("a"));
        assert_eq!(route("/other").as_deref(), Some("a"));
    }

    #[test]
    fn upstream_path_strips_and_joins() {
        let api = parse(&def("a", "/orders/", "http://up:1/base/?v=1"), "a.json").unwrap();
        assert_eq!(
            api.upstream_path("/orders/x/y", Some("q=2")),
            "/base/x/y?v=1&q=2"
        );
        assert_eq!(api.upstream_path("/orders", None), "/base/?v=1");
        let mut keep = api.clone();
        keep.definition.proxy.strip_listen_path = false;
        assert_eq!(keep.upstream_path("/orders/x", None), "/base/orders/x?v=1");
    }

    #[test]
    fn mistakes_are_all_reported() {
        let text = r#"{"api_id": "billing", "use_keyless": "yes", "auth": {"auth_header_name": 7},
            "proxy": {"listen_path": "billing", "target_url": 5}}"#;
        let errors: Vec<String> = parse(text, "billing.json")
            .unwrap_err()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            errors,
            [
                "billing.json, API \"billing\", field `use_keyless`: found the string \"yes\"; expected `true` or `false`",
                "billing.json, API \"billing\", field `auth.auth_header_name`: found the number 7; expected a string",
                "billing.json, API \"billing\", field `proxy.target_url`: found the number 5; expected a string",
            ]
        );
        let errors: Vec<String> = parse(
            r#"{"proxy": {"listen_path": "x", "target_url": "up"}}"#,
            "x.json",
        )
        .unwrap_err()
        .iter()
        .map(ToString::to_string)
        .collect();
        assert_eq!(errors.len(), 3, "{errors:#?}");
    }

    #[test]
    fn duplicates_name_both_files() {
        let err = load_sources(&[
            ("one.json".into(), def("a", "/x/", "http://up/")),
            ("two.json".into(), def("a", "/y/", "http://up/")),
            ("three.json".into(), def("c", "/x", "http://up/")),
        ])
        .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("two.json, API \"a\", field `api_id`: found \"a\", already the id of the API in one.json"), "{text}");
        assert!(text.contains("three.json, API \"c\", field `proxy.listen_path`: found \"/x\", already the listen path of API \"a\" in one.json"), "{text}");
    }

    #[test]
    fn inactive_apis_are_not_served() {
        let inactive = r#"{"api_id": "old", "active": false, "proxy": {"listen_path": "/old/", "target_url": "http://up/"}}"#;
        let loaded = load_sources(&[("old.json".into(), inactive.into())]).unwrap();
        assert!(loaded.apis.is_empty());
        assert_eq!(loaded.inactive, ["old.json"]);
    }
}
