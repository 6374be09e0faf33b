//! The gateway configuration: the subset of Tyk's `tyk.conf` that applies, and a `hookshot`
//! section of our own. Unknown fields are ignored (real `tyk.conf` files carry many); a field of
//! the wrong type is refused with its file, path, the value found and what is accepted.
//!
//! Stages: this module declares the settings (serde types with their defaults; the wire form is
//! the domain form, as they are plain values); [`parse`] checks a document field by field against
//! them, then the values against their bounds and each other.

#[cfg(test)]
mod tests;
mod validate;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::handlers::EventHandlers;

pub use validate::{
    Features, MAX_CONCURRENCY, MAX_CONNECT_TIMEOUT_SECS, MAX_PROXY_TIMEOUT_SECS,
    MAX_SHUTDOWN_GRACE_SECS, MAX_STORAGE_DEADLINE_MS, MAX_STORAGE_TIMEOUT_SECS, MIN_QUEUED_BYTES,
    MIN_SECRET_CHARS, admin_listener_is_loopback, apply_env, check_admin_secret, parse,
};

/// The gateway configuration file (`tyk.conf`-style JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GatewayConfig {
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
    /// system events TokenCreated, TokenUpdated and TokenDeleted. Read by [`EventHandlers::from_definition`] into
    /// [`LoadedConfig::global_handlers`].
    pub event_handlers: Value,
    /// Settings of Hookshot's own: the webhook dispatcher, transport, cool-down policy and logs.
    pub hookshot: HookshotConfig,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        GatewayConfig {
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

/// `storage`: Tyk's Redis settings, plus `type` (`memory` by default). Its `Debug` hides the
/// password.
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
    pub config: GatewayConfig,
    /// The global handlers, from `event_handlers`.
    pub global_handlers: EventHandlers,
    /// The file, or the name the gateway reports its bundled example under.
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
