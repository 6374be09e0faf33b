//! The gateway configuration: the subset of Tyk's `tyk.conf` that applies, and a `hookshot`
//! section of our own. Unknown fields are ignored (real `tyk.conf` files carry many); a field of
//! the wrong type is refused with its file, path, the value found and what is accepted.

use std::path::{Path, PathBuf};

use hookshot_event::{ConfigError, ConfigErrors, EventHandlers, Location, describe, parse_json};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::fields::check_fields;

/// The bundled example configuration, run by `hookshot` without `--conf`.
pub const EXAMPLE_CONF: &str = include_str!("../examples-conf/hookshot.conf");
/// The bundled example API definition (`apps/orders.json` of the example).
pub const EXAMPLE_API: &str = include_str!("../examples-conf/apps/orders.json");
/// The name the bundled example configuration is reported under.
pub const EXAMPLE_CONF_NAME: &str = "<bundled example>/hookshot.conf";
/// The name the bundled example API definition is reported under.
pub const EXAMPLE_API_NAME: &str = "<bundled example>/apps/orders.json";

/// The gateway configuration file (`tyk.conf`-style JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// The address to listen on; empty means every interface (`0.0.0.0`).
    pub listen_address: String,
    /// The port for proxied APIs and `/hello`, and for the control API (`/tyk/...`, `/metrics`)
    /// unless `control_api_port` moves it.
    pub listen_port: u16,
    /// Tyk's control port: when not 0, `/tyk/...` and `/metrics` are served only on a second
    /// listener at `listen_address:control_api_port` (with `/hello`), and answer 404 on
    /// `listen_port`.
    pub control_api_port: u16,
    /// Tyk's control API host name: when set, `/tyk/...` and `/metrics` answer only requests whose
    /// `Host` (without its port, in any case) is this name, and 404 the others. It names no
    /// address to bind: as in Tyk, the control listener binds `listen_address`.
    pub control_api_hostname: String,
    /// Tyk's HTTP server settings; Hookshot reads `read_timeout` (and refuses `use_ssl`).
    pub http_server_options: HttpServerOptions,
    /// The secret the keys API and `/tyk/reload` require in `x-tyk-authorization`.
    /// Overridden by `HOOKSHOT_SECRET` (or Tyk's `TYK_GW_SECRET`). Empty refuses every admin call;
    /// otherwise at least [`MIN_SECRET_CHARS`] characters unless the listener is loopback-only
    /// ([`check_admin_secret`]).
    pub secret: String,
    /// The folder where webhook templates named by relative paths are found;
    /// empty means the shipped templates embedded in the binary.
    pub template_path: String,
    /// The folder of API definitions (every `*.json` in it), relative to the configuration file.
    pub app_path: String,
    /// Where keys, rate and quota counters and webhook cool-downs are kept.
    pub storage: StorageConfig,
    /// Seconds to wait for an upstream's response headers before answering 502 (Tyk's name); 0: no limit.
    pub proxy_default_timeout: u64,
    /// Global event handlers (Tyk's classic `{"events": {...}}` block); they also receive the
    /// system events TokenCreated, TokenUpdated and TokenDeleted. Read by [`EventHandlers::from_definition`].
    pub event_handlers: Value,
    /// Settings of Hookshot's own: the webhook dispatcher, transport, cool-down policy and logs.
    pub hookshot: HookshotConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen_address: String::new(),
            listen_port: 8080,
            control_api_port: 0,
            control_api_hostname: String::new(),
            http_server_options: HttpServerOptions::default(),
            secret: String::new(),
            template_path: String::new(),
            app_path: String::new(),
            storage: StorageConfig::default(),
            proxy_default_timeout: 30,
            event_handlers: Value::Null,
            hookshot: HookshotConfig::default(),
        }
    }
}

/// `http_server_options`: the part of Tyk's HTTP server settings Hookshot applies.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct HttpServerOptions {
    /// Seconds a client has to send a whole request head, counted from when the gateway starts
    /// waiting for one (on a new connection, and after each answer on a kept-alive HTTP/1
    /// connection); beyond it the connection is closed. 0 (or missing) means
    /// [`DEFAULT_READ_TIMEOUT_SECS`]; at most [`MAX_TIMEOUT_SECS`]. Tyk applies it to the body
    /// too; Hookshot to the head only.
    pub read_timeout: u64,
}

/// The header read timeout when `http_server_options.read_timeout` is 0 or missing.
pub const DEFAULT_READ_TIMEOUT_SECS: u64 = 30;
/// The most seconds a listener timeout (`read_timeout`, `idle_timeout_secs`, HTTP/2 keep-alive)
/// may be set to.
pub const MAX_TIMEOUT_SECS: u64 = 3_600;
/// The most connections `hookshot.max_connections` may allow.
pub const MAX_CONNECTIONS: usize = 1_000_000;
/// The smallest request head `hookshot.max_header_bytes` may allow (hyper's smallest HTTP/1
/// read buffer).
pub const MIN_HEADER_BYTES: usize = 8_192;
/// The largest request head `hookshot.max_header_bytes` may allow.
pub const MAX_HEADER_BYTES: usize = 1 << 20;

/// Which storage backs the gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StorageType {
    /// In this process only: one gateway node, nothing to run beside it.
    #[default]
    Memory,
    /// A Redis server shared by every gateway node.
    Redis,
}

/// `storage`: Tyk's Redis settings, plus `type` (`memory` by default).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct StorageConfig {
    /// `memory` (the default) or `redis`.
    #[serde(rename = "type")]
    pub kind: StorageType,
    /// The Redis host.
    pub host: String,
    /// The Redis port.
    pub port: u16,
    /// The Redis user (ACL), if any.
    pub username: String,
    /// The Redis password, if any; overridden by `HOOKSHOT_REDIS_PASSWORD` (or `TYK_GW_STORAGE_PASSWORD`).
    pub password: String,
    /// The Redis database number.
    pub database: i64,
    /// Put before every key the gateway writes for sessions and limits (Hookshot's own; empty by default).
    /// Cool-down keys are always Tyk's `webhook.cache.<md5>`, so Tyk and Hookshot share them.
    pub key_prefix: String,
    /// Seconds to wait for Redis to connect, and to answer any one command (keys, limits,
    /// cool-downs share one connection); a call `request_deadline_ms` also bounds ends at the
    /// shorter of the two.
    pub timeout_secs: u64,
    /// Milliseconds all the storage calls of one proxied request (key, rate and quota) may take
    /// together; past it the request gets 503. After 3 such timeouts in a row, storage calls fail
    /// at once (503) for 5 s, then one is tried again. Also the longest a webhook's cool-down
    /// claim waits for Redis before `hookshot.fail_open` decides.
    pub request_deadline_ms: u64,
}

impl Default for StorageConfig {
    fn default() -> Self {
        StorageConfig {
            kind: StorageType::Memory,
            host: "127.0.0.1".into(),
            port: 6379,
            username: String::new(),
            password: String::new(),
            database: 0,
            key_prefix: String::new(),
            timeout_secs: 2,
            request_deadline_ms: 500,
        }
    }
}

impl StorageConfig {
    /// The `redis://` URL for these settings. The user name and password are percent-encoded, so
    /// any password (`/`, `#`, `?`, `%`, `@` included) reaches Redis unchanged, and an IPv6 host is
    /// bracketed. The URL holds the password: never log it (log [`StorageConfig`]'s `Debug`, which
    /// hides it).
    pub fn redis_url(&self) -> String {
        let user = percent_encode(&self.username);
        let auth = match (self.username.is_empty(), self.password.is_empty()) {
            (true, true) => String::new(),
            (true, false) => format!(":{}@", percent_encode(&self.password)),
            (false, true) => format!("{user}@"),
            (false, false) => format!("{user}:{}@", percent_encode(&self.password)),
        };
        format!(
            "redis://{auth}{}/{}",
            host_port(&self.host, self.port),
            self.database
        )
    }
}

/// `host:port`, with an IPv6 address between brackets (`[::1]:6379`).
pub fn host_port(host: &str, port: u16) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// Every byte but RFC 3986's unreserved characters as `%XX`.
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if crate::path::is_unreserved(b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl std::fmt::Debug for StorageConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hidden = if self.password.is_empty() { "" } else { "***" };
        f.debug_struct("StorageConfig")
            .field("kind", &self.kind)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("username", &self.username)
            .field("password", &hidden)
            .field("database", &self.database)
            .field("key_prefix", &self.key_prefix)
            .field("timeout_secs", &self.timeout_secs)
            .field("request_deadline_ms", &self.request_deadline_ms)
            .finish()
    }
}

/// The log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// `hookshot`: the settings Tyk has no equivalent for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct HookshotConfig {
    /// How many events may wait for delivery; beyond it new events are dropped and counted.
    pub queue_capacity: usize,
    /// How many webhook retries may wait for their backoff at once (absent: `queue_capacity`);
    /// beyond it a retry is not made and its event counts as failed (`retry_overflow`).
    pub max_waiting_retries: Option<usize>,
    /// Estimated bytes of webhook events held for delivery and of the requests of waiting retries
    /// (default 64 MiB, at least [`MIN_QUEUED_BYTES`]); an event beyond it is dropped and counted,
    /// a retry beyond it is not made.
    pub max_queued_bytes: usize,
    /// How many webhook deliveries run at once.
    pub concurrency: usize,
    /// Seconds SIGTERM waits for queued webhooks to be delivered before the process exits.
    pub shutdown_grace_secs: u64,
    /// Seconds to wait for a webhook receiver's TCP (and TLS) connection.
    pub connect_timeout_secs: u64,
    /// Seconds one webhook attempt may take in all (a handler's `request_timeout` overrides it).
    pub request_timeout_secs: u64,
    /// A PEM file of extra CA certificates trusted for `https` webhook receivers and upstreams.
    pub extra_ca_file: String,
    /// Whether a webhook is sent when the cool-down store cannot be asked (Redis down): `true`
    /// risks duplicates, `false` risks losing it.
    pub fail_open: bool,
    /// `text` or `json` log lines (the `--log-format` flag overrides it).
    pub log_format: LogFormat,
    /// Whether key events (AuthFailure, KeyExpired, RatelimitExceeded, QuotaExceeded) carry the
    /// presented key in `Meta.Key` as it came, as Tyk's do; by default (`false`) it is
    /// obfuscated as Tyk's logs write keys: `****` and its last four characters.
    pub send_keys_in_clear: bool,
    /// Seconds a connection may stay with no request in progress before it is closed (HTTP/1
    /// and HTTP/2); from 1 to [`MAX_TIMEOUT_SECS`]. An HTTP/1 connection waiting for a request
    /// head is also closed by `http_server_options.read_timeout`, whichever comes first.
    pub idle_timeout_secs: u64,
    /// Seconds between the HTTP/2 pings sent on a connection that is otherwise quiet; 0: none;
    /// at most [`MAX_TIMEOUT_SECS`].
    pub http2_keep_alive_interval_secs: u64,
    /// Seconds to wait for the answer to an HTTP/2 ping before closing the connection; from 1
    /// to [`MAX_TIMEOUT_SECS`].
    pub http2_keep_alive_timeout_secs: u64,
    /// How many client connections each listener keeps open at once; beyond it, accepting waits
    /// until one closes (new clients wait in the kernel's backlog). From 1 to [`MAX_CONNECTIONS`];
    /// keep it under the process's open-file limit less what upstreams and Redis need.
    pub max_connections: usize,
    /// The largest request head accepted, in bytes (HTTP/1: the read buffer, answered 431
    /// beyond it; HTTP/2: the header list size); from [`MIN_HEADER_BYTES`] to [`MAX_HEADER_BYTES`].
    pub max_header_bytes: usize,
}

impl Default for HookshotConfig {
    fn default() -> Self {
        HookshotConfig {
            queue_capacity: 10_000,
            max_waiting_retries: None,
            max_queued_bytes: 64 * 1024 * 1024,
            concurrency: 64,
            shutdown_grace_secs: 10,
            connect_timeout_secs: 5,
            request_timeout_secs: 30,
            extra_ca_file: String::new(),
            fail_open: true,
            log_format: LogFormat::Text,
            send_keys_in_clear: false,
            idle_timeout_secs: 60,
            http2_keep_alive_interval_secs: 20,
            http2_keep_alive_timeout_secs: 20,
            max_connections: 4_096,
            max_header_bytes: 64 * 1024,
        }
    }
}

/// A configuration as loaded: the settings, their global handlers and where they came from.
#[derive(Debug, Clone)]
pub struct LoadedConfig {
    /// The settings.
    pub config: Config,
    /// The global handlers, from `event_handlers`.
    pub global_handlers: EventHandlers,
    /// The file, or [`EXAMPLE_CONF_NAME`] for the bundled example.
    pub name: String,
    /// The folder relative paths are read from (`None` for the bundled example).
    pub base_dir: Option<PathBuf>,
}

impl LoadedConfig {
    /// Whether this is the bundled example rather than a file.
    pub fn is_example(&self) -> bool {
        self.base_dir.is_none()
    }

    /// The folder of API definitions, resolved against the configuration's folder
    /// (`None` for the bundled example, whose API is embedded).
    pub fn app_dir(&self) -> Option<PathBuf> {
        let base = self.base_dir.as_ref()?;
        Some(base.join(&self.config.app_path))
    }

    /// The template folder, resolved against the configuration's folder (`None`: shipped templates).
    pub fn template_dir(&self) -> Option<PathBuf> {
        if self.config.template_path.is_empty() {
            return None;
        }
        let base = self.base_dir.clone().unwrap_or_default();
        Some(base.join(&self.config.template_path))
    }
}

/// Reads the configuration file at `path`, applying the environment overrides.
pub fn load(path: &Path) -> Result<LoadedConfig, ConfigErrors> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        ConfigError::new(
            Location::file(&name),
            format!("the file cannot be read ({e})"),
            "expected a readable JSON file",
        )
    })?;
    let base = path
        .parent()
        .map(|p| {
            if p.as_os_str().is_empty() {
                PathBuf::from(".")
            } else {
                p.to_path_buf()
            }
        })
        .unwrap_or_else(|| PathBuf::from("."));
    let mut loaded = parse(&text, &name, Some(base))?;
    apply_env(&mut loaded.config, |k| std::env::var(k).ok());
    check_admin_secret(&loaded.config, &name)?;
    Ok(loaded)
}

/// The bundled example configuration, with the environment overrides.
pub fn example() -> LoadedConfig {
    let mut loaded = parse(EXAMPLE_CONF, EXAMPLE_CONF_NAME, None)
        .expect("the bundled example configuration is valid");
    apply_env(&mut loaded.config, |k| std::env::var(k).ok());
    loaded
}

/// Parses a configuration document named `name`, reporting every wrong field.
pub fn parse(
    text: &str,
    name: &str,
    base_dir: Option<PathBuf>,
) -> Result<LoadedConfig, ConfigErrors> {
    let doc = parse_json(text, name)?;
    let at = |field: &str| Location::file(name).field(field);
    let Some(obj) = doc.as_object() else {
        return Err(ConfigError::new(
            Location::file(name),
            format!("found {}", describe(&doc)),
            "expected a JSON object of gateway settings",
        )
        .into());
    };
    let mut errors = ConfigErrors::default();
    check_fields::<Config>(
        obj,
        "",
        &[
            "storage",
            "hookshot",
            "event_handlers",
            "http_server_options",
        ],
        &at,
        &mut errors,
    );
    section::<HttpServerOptions>(obj, "http_server_options", &at, &mut errors);
    section::<StorageConfig>(obj, "storage", &at, &mut errors);
    section::<HookshotConfig>(obj, "hookshot", &at, &mut errors);
    refuse_tls(&doc, &at, &mut errors);
    let global_handlers = errors.take(EventHandlers::from_definition(&doc, &Location::file(name)));
    if !errors.is_empty() {
        return Err(errors);
    }
    let config: Config = serde_json::from_value(doc).map_err(|e| {
        ConfigError::new(
            Location::file(name),
            e.to_string(),
            "expected a valid gateway configuration",
        )
    })?;
    validate(&config, name, &mut errors);
    errors.into_result(LoadedConfig {
        config,
        global_handlers,
        name: name.to_owned(),
        base_dir,
    })
}

/// Tyk's `http_server_options.use_ssl`: Hookshot does not terminate TLS, and serving plain HTTP
/// where a configuration asks for HTTPS would be worse than not starting.
fn refuse_tls(doc: &Value, at: &dyn Fn(&str) -> Location, errors: &mut ConfigErrors) {
    let field = "http_server_options.use_ssl";
    match doc.pointer("/http_server_options/use_ssl") {
        None | Some(Value::Null | Value::Bool(false)) => {}
        Some(Value::Bool(true)) => errors.push(ConfigError::new(
            at(field),
            "found true, but Hookshot serves plain HTTP only and does not terminate TLS",
            "expected false or no use_ssl, with TLS terminated in front of Hookshot (a load \
             balancer or a TLS proxy forwarding to its listen_port)",
        )),
        Some(other) => errors.push(ConfigError::new(
            at(field),
            format!("found {}", describe(other)),
            "expected true or false",
        )),
    }
}

fn section<T: serde::de::DeserializeOwned>(
    obj: &serde_json::Map<String, Value>,
    name: &str,
    at: &dyn Fn(&str) -> Location,
    errors: &mut ConfigErrors,
) {
    match obj.get(name) {
        None | Some(Value::Null) => {}
        Some(Value::Object(inner)) => {
            check_fields::<T>(inner, &format!("{name}."), &[], at, errors)
        }
        Some(other) => errors.push(ConfigError::new(
            at(name),
            format!("found {}", describe(other)),
            "expected a JSON object",
        )),
    }
}

/// The most webhook requests in flight `hookshot.concurrency` may ask for.
pub const MAX_CONCURRENCY: usize = 10_000;

/// The longest `proxy_default_timeout`: 1 hour, in seconds.
pub const MAX_PROXY_TIMEOUT_SECS: u64 = 3600;
/// The longest `hookshot.shutdown_grace_secs`: 1 hour.
pub const MAX_SHUTDOWN_GRACE_SECS: u64 = 3600;
/// The longest `hookshot.connect_timeout_secs`: 5 minutes.
pub const MAX_CONNECT_TIMEOUT_SECS: u64 = 300;
/// The longest `storage.timeout_secs`: 1 minute.
pub const MAX_STORAGE_TIMEOUT_SECS: u64 = 60;
/// The longest `storage.request_deadline_ms`: 1 minute, in milliseconds.
pub const MAX_STORAGE_DEADLINE_MS: u64 = 60_000;

/// Every duration has a maximum, so that none overflows a clock at run time.
fn validate_durations(config: &Config, at: &dyn Fn(&str) -> Location, errors: &mut ConfigErrors) {
    let h = &config.hookshot;
    let s = &config.storage;
    let hour = "1 hour";
    for (field, value, max, unit, span) in [
        (
            "proxy_default_timeout",
            config.proxy_default_timeout,
            MAX_PROXY_TIMEOUT_SECS,
            "seconds",
            hour,
        ),
        (
            "hookshot.shutdown_grace_secs",
            h.shutdown_grace_secs,
            MAX_SHUTDOWN_GRACE_SECS,
            "seconds",
            hour,
        ),
        (
            "hookshot.connect_timeout_secs",
            h.connect_timeout_secs,
            MAX_CONNECT_TIMEOUT_SECS,
            "seconds",
            "5 minutes",
        ),
        (
            "hookshot.request_timeout_secs",
            h.request_timeout_secs,
            hookshot_event::MAX_REQUEST_TIMEOUT_SECS,
            "seconds",
            hour,
        ),
        (
            "storage.timeout_secs",
            s.timeout_secs,
            MAX_STORAGE_TIMEOUT_SECS,
            "seconds",
            "1 minute",
        ),
        (
            "storage.request_deadline_ms",
            s.request_deadline_ms,
            MAX_STORAGE_DEADLINE_MS,
            "milliseconds",
            "1 minute",
        ),
    ] {
        if value > max {
            errors.push(ConfigError::new(
                at(field),
                format!("found {value} {unit}"),
                format!("expected at most {max} {unit} ({span})"),
            ));
        }
    }
    if s.request_deadline_ms == 0 {
        errors.push(ConfigError::new(
            at("storage.request_deadline_ms"),
            "found the number 0",
            format!("expected a whole number of milliseconds from 1 to {MAX_STORAGE_DEADLINE_MS}"),
        ));
    }
}

/// The smallest `hookshot.max_queued_bytes`: room for a few of the largest events.
pub const MIN_QUEUED_BYTES: usize = 1024 * 1024;

fn validate(config: &Config, name: &str, errors: &mut ConfigErrors) {
    let at = |field: &str| Location::file(name).field(field);
    validate_durations(config, &at, errors);
    let h = &config.hookshot;
    for (field, value) in [
        ("hookshot.queue_capacity", h.queue_capacity),
        ("hookshot.concurrency", h.concurrency),
    ] {
        if value == 0 {
            errors.push(ConfigError::new(
                at(field),
                "found the number 0",
                "expected a whole number, 1 or more",
            ));
        }
    }
    if h.max_waiting_retries == Some(0) {
        errors.push(ConfigError::new(
            at("hookshot.max_waiting_retries"),
            "found the number 0",
            "expected a whole number, 1 or more (or no field: as many as queue_capacity)",
        ));
    }
    if h.max_queued_bytes < MIN_QUEUED_BYTES {
        errors.push(ConfigError::new(
            at("hookshot.max_queued_bytes"),
            format!("found the number {}", h.max_queued_bytes),
            format!("expected a number of bytes, at least {MIN_QUEUED_BYTES} (1 MiB)"),
        ));
    }
    // The dispatcher keeps twice this many workers.
    if h.concurrency > MAX_CONCURRENCY {
        errors.push(ConfigError::new(
            at("hookshot.concurrency"),
            format!("found the number {}", h.concurrency),
            format!("expected at most {MAX_CONCURRENCY} webhook requests in flight"),
        ));
    }
    validate_listeners(config, &at, errors);
    if config.storage.kind == StorageType::Redis {
        if config.storage.host.is_empty() {
            errors.push(ConfigError::new(
                at("storage.host"),
                "found an empty host",
                "expected the Redis host name or address",
            ));
        }
        if !cfg!(feature = "redis") {
            errors.push(ConfigError::new(
                at("storage.type"),
                "found \"redis\", but this binary was built without the `redis` feature",
                "expected \"memory\", or a build with `--features redis`",
            ));
        }
        if config.storage.database < 0 {
            errors.push(ConfigError::new(
                at("storage.database"),
                format!("found the number {}", config.storage.database),
                "expected a Redis database number, 0 or more",
            ));
        }
    }
}

/// The shortest admin `secret` accepted on a listener that is not loopback-only.
pub const MIN_SECRET_CHARS: usize = 16;

/// Whether the admin API (`/tyk/...`) is reachable only from this machine: its listener is bound
/// to a loopback address (`127.0.0.0/8`, `::1`, `localhost`).
pub fn admin_listener_is_loopback(config: &Config) -> bool {
    let host = config.listen_address.trim();
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Refuses a `secret` (after the environment overrides) shorter than [`MIN_SECRET_CHARS`] when
/// the admin API is reachable from other machines. An empty secret is accepted: it turns the
/// admin API off.
pub fn check_admin_secret(config: &Config, name: &str) -> Result<(), ConfigErrors> {
    let chars = config.secret.chars().count();
    if chars == 0 || chars >= MIN_SECRET_CHARS || admin_listener_is_loopback(config) {
        return Ok(());
    }
    let address = if config.listen_address.is_empty() {
        "every interface (listen_address is empty)".to_owned()
    } else {
        format!("listen_address {:?}", config.listen_address)
    };
    Err(ConfigError::new(
        Location::file(name).field("secret"),
        format!(
            "found a secret of {chars} characters (from the file, or HOOKSHOT_SECRET / \
             TYK_GW_SECRET), and the admin API listens on {address}, which is not loopback-only"
        ),
        format!(
            "expected a secret of at least {MIN_SECRET_CHARS} characters, an empty secret (the \
             admin API refuses every call), or a loopback listen_address (127.0.0.1, ::1 or \
             localhost)"
        ),
    )
    .into())
}

/// The control port, the listener timeouts and the connection and head-size caps.
fn validate_listeners(config: &Config, at: &dyn Fn(&str) -> Location, errors: &mut ConfigErrors) {
    if config.control_api_port != 0 && config.control_api_port == config.listen_port {
        errors.push(ConfigError::new(
            at("control_api_port"),
            format!(
                "found the number {}, which is listen_port too",
                config.control_api_port
            ),
            "expected a port other than listen_port, or 0 to serve the control API on listen_port",
        ));
    }
    let h = &config.hookshot;
    let timeouts = [
        (
            "http_server_options.read_timeout",
            config.http_server_options.read_timeout,
            0,
            " (0: the default)",
        ),
        ("hookshot.idle_timeout_secs", h.idle_timeout_secs, 1, ""),
        (
            "hookshot.http2_keep_alive_interval_secs",
            h.http2_keep_alive_interval_secs,
            0,
            " (0: no pings)",
        ),
        (
            "hookshot.http2_keep_alive_timeout_secs",
            h.http2_keep_alive_timeout_secs,
            1,
            "",
        ),
    ];
    for (field, value, min, note) in timeouts {
        if !(min..=MAX_TIMEOUT_SECS).contains(&value) {
            errors.push(ConfigError::new(
                at(field),
                format!("found the number {value}"),
                format!("expected a number of seconds from {min}{note} to {MAX_TIMEOUT_SECS}"),
            ));
        }
    }
    let sizes = [
        (
            "hookshot.max_connections",
            h.max_connections,
            1,
            MAX_CONNECTIONS,
            "connections",
        ),
        (
            "hookshot.max_header_bytes",
            h.max_header_bytes,
            MIN_HEADER_BYTES,
            MAX_HEADER_BYTES,
            "bytes",
        ),
    ];
    for (field, value, min, max, unit) in sizes {
        if !(min..=max).contains(&value) {
            errors.push(ConfigError::new(
                at(field),
                format!("found the number {value}"),
                format!("expected a number of {unit} from {min} to {max}"),
            ));
        }
    }
}

/// Applies `HOOKSHOT_SECRET` / `TYK_GW_SECRET` and `HOOKSHOT_REDIS_PASSWORD` /
/// `TYK_GW_STORAGE_PASSWORD` (Hookshot's names win when both are set).
pub fn apply_env(config: &mut Config, env: impl Fn(&str) -> Option<String>) {
    let first = |names: [&str; 2]| {
        names
            .into_iter()
            .find_map(|n| env(n).filter(|v| !v.is_empty()))
    };
    if let Some(secret) = first(["HOOKSHOT_SECRET", "TYK_GW_SECRET"]) {
        config.secret = secret;
    }
    if let Some(password) = first(["HOOKSHOT_REDIS_PASSWORD", "TYK_GW_STORAGE_PASSWORD"]) {
        config.storage.password = password;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn messages(text: &str) -> Vec<String> {
        match parse(text, "gw.conf", None) {
            Ok(_) => vec![],
            Err(e) => e.iter().map(ToString::to_string).collect(),
        }
    }

    #[test]
    fn defaults_apply_and_unknown_fields_are_ignored() {
        let loaded = parse(
            r#"{"enable_analytics": true, "app_path": "apps/"}"#,
            "gw.conf",
            None,
        )
        .unwrap();
        assert_eq!(loaded.config.listen_port, 8080);
        assert_eq!(loaded.config.storage.kind, StorageType::Memory);
        assert_eq!(loaded.config.app_path, "apps/");
        assert!(loaded.global_handlers.is_empty());
    }

    #[test]
    fn every_wrong_field_is_reported_with_path_value_and_accepted() {
        let errors = messages(
            r#"{"listen_port": "eight", "secret": 5,
                "storage": {"type": "mongo", "port": 70000},
                "hookshot": {"log_format": "xml", "concurrency": -1}}"#,
        );
        let want = [
            "gw.conf, field `listen_port`: found the string \"eight\"; expected a whole number from 0 to 65535",
            "gw.conf, field `secret`: found the number 5; expected a string",
            "gw.conf, field `storage.type`: found the string \"mongo\"; expected one of `memory` or `redis`",
            "gw.conf, field `storage.port`: found the number 70000; expected a whole number from 0 to 65535",
            "gw.conf, field `hookshot.log_format`: found the string \"xml\"; expected one of `text` or `json`",
            "gw.conf, field `hookshot.concurrency`: found the number -1; expected a whole number, 0 or more",
        ];
        for w in want {
            assert!(
                errors.iter().any(|e| e == w),
                "missing {w:?} in {errors:#?}"
            );
        }
        assert_eq!(errors.len(), want.len(), "{errors:#?}");
    }

    #[test]
    fn zero_concurrency_is_refused() {
        let errors = messages(r#"{"hookshot": {"concurrency": 0}}"#);
        assert_eq!(
            errors,
            [
                "gw.conf, field `hookshot.concurrency`: found the number 0; expected a whole number, 1 or more"
            ]
        );
    }

    #[test]
    fn a_tls_listener_is_refused_rather_than_served_as_plain_http() {
        assert!(
            messages(r#"{"http_server_options": {"use_ssl": false, "xff_depth": 1}}"#).is_empty()
        );
        assert_eq!(
            messages(r#"{"http_server_options": {"use_ssl": true}, "listen_port": "x"}"#),
            [
                "gw.conf, field `listen_port`: found the string \"x\"; expected a whole number from 0 to 65535",
                "gw.conf, field `http_server_options.use_ssl`: found true, but Hookshot serves plain \
                 HTTP only and does not terminate TLS; expected false or no use_ssl, with TLS \
                 terminated in front of Hookshot (a load balancer or a TLS proxy forwarding to its \
                 listen_port)",
            ]
        );
        assert_eq!(
            messages(r#"{"http_server_options": {"use_ssl": "yes"}}"#),
            [
                "gw.conf, field `http_server_options.use_ssl`: found the string \"yes\"; expected true or false"
            ]
        );
    }

    #[test]
    fn every_duration_has_a_ceiling() {
        assert!(
            messages(
                r#"{"proxy_default_timeout": 3600, "storage": {"timeout_secs": 60, "request_deadline_ms": 60000},
                    "hookshot": {"shutdown_grace_secs": 3600, "connect_timeout_secs": 300, "request_timeout_secs": 3600}}"#
            )
            .is_empty()
        );
        let errors = messages(
            r#"{"proxy_default_timeout": 3601,
                "storage": {"timeout_secs": 61, "request_deadline_ms": 0},
                "hookshot": {"shutdown_grace_secs": 18446744073709551615, "connect_timeout_secs": 301,
                             "request_timeout_secs": 10000000000000000000}}"#,
        );
        assert_eq!(
            errors,
            [
                "gw.conf, field `proxy_default_timeout`: found 3601 seconds; expected at most 3600 seconds (1 hour)",
                "gw.conf, field `hookshot.shutdown_grace_secs`: found 18446744073709551615 seconds; expected at most 3600 seconds (1 hour)",
                "gw.conf, field `hookshot.connect_timeout_secs`: found 301 seconds; expected at most 300 seconds (5 minutes)",
                "gw.conf, field `hookshot.request_timeout_secs`: found 10000000000000000000 seconds; expected at most 3600 seconds (1 hour)",
                "gw.conf, field `storage.timeout_secs`: found 61 seconds; expected at most 60 seconds (1 minute)",
                "gw.conf, field `storage.request_deadline_ms`: found the number 0; expected a whole number of milliseconds from 1 to 60000",
            ]
        );
    }

    #[test]
    fn webhook_memory_bounds_have_floors() {
        let loaded = parse(r#"{"hookshot": {"queue_capacity": 50}}"#, "gw.conf", None).unwrap();
        assert_eq!(loaded.config.hookshot.max_waiting_retries, None);
        assert_eq!(loaded.config.hookshot.max_queued_bytes, 64 * 1024 * 1024);
        assert!(
            messages(r#"{"hookshot": {"max_waiting_retries": 1, "max_queued_bytes": 1048576}}"#)
                .is_empty()
        );
        assert_eq!(
            messages(r#"{"hookshot": {"max_waiting_retries": 0, "max_queued_bytes": 1000}}"#),
            [
                "gw.conf, field `hookshot.max_waiting_retries`: found the number 0; expected a whole number, 1 or more (or no field: as many as queue_capacity)",
                "gw.conf, field `hookshot.max_queued_bytes`: found the number 1000; expected a number of bytes, at least 1048576 (1 MiB)",
            ]
        );
        assert_eq!(
            messages(r#"{"hookshot": {"max_waiting_retries": -1}}"#),
            [
                "gw.conf, field `hookshot.max_waiting_retries`: found the number -1; expected a whole number, 0 or more"
            ]
        );
    }

    #[test]
    fn concurrency_has_a_ceiling() {
        assert!(messages(r#"{"hookshot": {"concurrency": 10000}}"#).is_empty());
        let errors = messages(r#"{"hookshot": {"concurrency": 10001}}"#);
        assert_eq!(
            errors,
            [
                "gw.conf, field `hookshot.concurrency`: found the number 10001; expected at most 10000 webhook requests in flight"
            ]
        );
    }

    #[test]
    fn listener_limits_are_checked_against_their_bounds() {
        assert!(
            messages(
                r#"{"listen_port": 8080, "control_api_port": 8081,
                    "http_server_options": {"read_timeout": 3600, "write_timeout": 5},
                    "hookshot": {"idle_timeout_secs": 1, "http2_keep_alive_interval_secs": 0,
                                 "max_connections": 1, "max_header_bytes": 8192}}"#
            )
            .is_empty()
        );
        let errors = messages(
            r#"{"listen_port": 8080, "control_api_port": 8080,
                "http_server_options": {"read_timeout": 3601},
                "hookshot": {"idle_timeout_secs": 0, "http2_keep_alive_interval_secs": 10000000000000000000,
                             "http2_keep_alive_timeout_secs": 0,
                             "max_connections": 0, "max_header_bytes": 8191}}"#,
        );
        assert_eq!(
            errors,
            [
                "gw.conf, field `control_api_port`: found the number 8080, which is listen_port \
                 too; expected a port other than listen_port, or 0 to serve the control API on \
                 listen_port",
                "gw.conf, field `http_server_options.read_timeout`: found the number 3601; \
                 expected a number of seconds from 0 (0: the default) to 3600",
                "gw.conf, field `hookshot.idle_timeout_secs`: found the number 0; expected a \
                 number of seconds from 1 to 3600",
                "gw.conf, field `hookshot.http2_keep_alive_interval_secs`: found the number \
                 10000000000000000000; expected a number of seconds from 0 (0: no pings) to 3600",
                "gw.conf, field `hookshot.http2_keep_alive_timeout_secs`: found the number 0; \
                 expected a number of seconds from 1 to 3600",
                "gw.conf, field `hookshot.max_connections`: found the number 0; expected a \
                 number of connections from 1 to 1000000",
                "gw.conf, field `hookshot.max_header_bytes`: found the number 8191; expected a \
                 number of bytes from 8192 to 1048576",
            ]
        );
        assert_eq!(
            messages(r#"{"http_server_options": {"read_timeout": "soon", "use_ssl": "no"}}"#),
            [
                "gw.conf, field `http_server_options.read_timeout`: found the string \"soon\"; \
                 expected a whole number, 0 or more",
                "gw.conf, field `http_server_options.use_ssl`: found the string \"no\"; \
                 expected true or false",
            ]
        );
    }

    #[test]
    fn environment_overrides_secret_and_password() {
        let mut config = Config::default();
        apply_env(&mut config, |k| match k {
            "TYK_GW_SECRET" => Some("tyk".into()),
            "HOOKSHOT_REDIS_PASSWORD" => Some("pw".into()),
            "TYK_GW_STORAGE_PASSWORD" => Some("ignored".into()),
            _ => None,
        });
        assert_eq!(config.secret, "tyk");
        assert_eq!(config.storage.password, "pw");
        apply_env(&mut config, |k| {
            (k == "HOOKSHOT_SECRET").then(|| "mine".to_owned())
        });
        assert_eq!(config.secret, "mine");
    }

    #[test]
    fn redis_url_carries_credentials_and_database() {
        let s = StorageConfig {
            username: "u".into(),
            password: "p".into(),
            database: 3,
            ..StorageConfig::default()
        };
        assert_eq!(s.redis_url(), "redis://u:p@127.0.0.1:6379/3");
    }

    #[test]
    fn redis_url_encodes_any_password_and_brackets_ipv6() {
        let s = StorageConfig {
            username: "ü@x".into(),
            password: "a/b#c?d%e".into(),
            host: "::1".into(),
            ..StorageConfig::default()
        };
        assert_eq!(
            s.redis_url(),
            "redis://%C3%BC%40x:a%2Fb%23c%3Fd%25e@[::1]:6379/0"
        );
        #[cfg(feature = "redis")]
        {
            let info =
                redis::IntoConnectionInfo::into_connection_info(s.redis_url().as_str()).unwrap();
            assert_eq!(info.redis_settings().password(), Some("a/b#c?d%e"));
            assert_eq!(info.redis_settings().username(), Some("ü@x"));
        }
        let shown = format!(
            "{:?}",
            Config {
                storage: s,
                ..Config::default()
            }
        );
        assert!(!shown.contains("a/b#c"), "{shown}");
    }

    #[test]
    fn the_bundled_example_loads() {
        let loaded = parse(EXAMPLE_CONF, EXAMPLE_CONF_NAME, None).unwrap();
        assert!(!loaded.global_handlers.is_empty());
        assert!(!loaded.config.secret.is_empty());
        check_admin_secret(&loaded.config, EXAMPLE_CONF_NAME).unwrap();
        assert!(admin_listener_is_loopback(&loaded.config));
        assert!(loaded.config.secret.chars().count() >= MIN_SECRET_CHARS);
    }

    #[test]
    fn a_short_secret_is_refused_unless_the_listener_is_loopback() {
        let conf = |address: &str, secret: &str| Config {
            listen_address: address.into(),
            secret: secret.into(),
            ..Config::default()
        };
        for address in [
            "127.0.0.1",
            "127.1.2.3",
            "::1",
            "[::1]",
            "localhost",
            "LOCALHOST",
        ] {
            assert!(admin_listener_is_loopback(&conf(address, "")), "{address}");
            check_admin_secret(&conf(address, "short"), "gw.conf").unwrap();
        }
        for address in ["", "0.0.0.0", "::", "10.0.0.1", "example.com"] {
            assert!(!admin_listener_is_loopback(&conf(address, "")), "{address}");
            check_admin_secret(&conf(address, ""), "gw.conf").unwrap();
            check_admin_secret(&conf(address, "sixteen-chars-ok"), "gw.conf").unwrap();
        }
        let errors = check_admin_secret(&conf("0.0.0.0", "e2e-secret"), "gw.conf").unwrap_err();
        let message = errors.to_string();
        assert_eq!(
            message,
            "gw.conf, field `secret`: found a secret of 10 characters (from the file, or \
             HOOKSHOT_SECRET / TYK_GW_SECRET), and the admin API listens on listen_address \
             \"0.0.0.0\", which is not loopback-only; expected a secret of at least 16 characters, \
             an empty secret (the admin API refuses every call), or a loopback listen_address \
             (127.0.0.1, ::1 or localhost)"
        );
        assert!(!message.contains("e2e-secret"));
        // Counted in characters, not bytes.
        assert!(check_admin_secret(&conf("", "ééééééééé"), "gw.conf").is_err());
    }
}
