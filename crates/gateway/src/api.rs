//! The APIs the gateway serves: every `*.json` in `app_path`, read by [`hookshot_config::api`]
//! (Tyk's classic format), routed by listen path, each API's upstream parsed once.

use std::path::{Path, PathBuf};

use hookshot_config::api::ApiConfig;
use hookshot_config::{ConfigError, ConfigErrors, EventHandlers, Location};
use hookshot_core::TargetUrl;
use hookshot_event::ApiRef;

pub use hookshot_config::api::{ApiDefinition, AuthConfig, ProxyConfig};

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
    hookshot_config::api::parse(text, name).map(Api::from)
}

impl From<ApiConfig> for Api {
    /// The API as served: its upstream's origin and `Host` parsed once, its reference for events.
    fn from(api: ApiConfig) -> Api {
        let ApiConfig {
            definition,
            target,
            handlers,
            file,
            auth_header,
        } = api;
        Api {
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
            file,
            auth_header,
        }
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
