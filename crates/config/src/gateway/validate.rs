//! Checking a gateway configuration: each field against its type (so that every wrong one is
//! reported), then the values against their bounds, and the admin secret against the listener.

use std::path::PathBuf;

use serde_json::Value;

use super::{
    GatewayConfig, HookshotConfig, HttpServerOptions, LoadedConfig, StorageConfig, StorageType,
};
use super::{MAX_CONNECTIONS, MAX_HEADER_BYTES, MAX_TIMEOUT_SECS, MIN_HEADER_BYTES};
use crate::error::{ConfigError, ConfigErrors, Location, describe, parse_json};
use crate::fields::check_fields;
use crate::handlers::EventHandlers;

/// What the running binary can do, which a configuration may ask for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Features {
    /// Whether Redis storage is built in (`storage.type: "redis"` is refused otherwise).
    pub redis: bool,
}

/// Parses a configuration document named `name`, reporting every wrong field.
/// `features` says what this binary can do (a build without Redis refuses `storage.type: "redis"`).
pub fn parse(
    text: &str,
    name: &str,
    base_dir: Option<PathBuf>,
    features: Features,
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
    check_fields::<GatewayConfig>(
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
    let config: GatewayConfig = serde_json::from_value(doc).map_err(|e| {
        ConfigError::new(
            Location::file(name),
            e.to_string(),
            "expected a valid gateway configuration",
        )
    })?;
    validate(&config, name, features, &mut errors);
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
fn validate_durations(
    config: &GatewayConfig,
    at: &dyn Fn(&str) -> Location,
    errors: &mut ConfigErrors,
) {
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
            crate::MAX_REQUEST_TIMEOUT_SECS,
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

fn validate(config: &GatewayConfig, name: &str, features: Features, errors: &mut ConfigErrors) {
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
        if !features.redis {
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
pub fn admin_listener_is_loopback(config: &GatewayConfig) -> bool {
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
pub fn check_admin_secret(config: &GatewayConfig, name: &str) -> Result<(), ConfigErrors> {
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
fn validate_listeners(
    config: &GatewayConfig,
    at: &dyn Fn(&str) -> Location,
    errors: &mut ConfigErrors,
) {
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
pub fn apply_env(config: &mut GatewayConfig, env: impl Fn(&str) -> Option<String>) {
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
