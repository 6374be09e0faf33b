//! The handle callers hold: [`Redis`], and the commands it sends (one command, a Lua script,
//! `PING`), each under a deadline.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use redis::{AsyncConnectionConfig, Client, Cmd, FromRedisValue, RedisError, Value};
use tokio::sync::Notify;

use crate::connection::Link;
use crate::pipeline::Batch;
use crate::script::ScriptCall;
use crate::{Error, Result, Settings};

/// One Redis server, reached through one multiplexed, pipelining connection that reconnects by
/// itself; every command is answered within its limit.
///
/// Cheap to clone: clones share the connection, so every part of a process that talks to one
/// Redis (keys, limits, cool-downs) shares its health too. Commands must run on a Tokio runtime;
/// making the handle needs none and does not connect (the first command does).
#[derive(Clone)]
pub struct Redis {
    shared: Arc<Shared>,
}

/// What the clones of a [`Redis`] share.
pub(crate) struct Shared {
    pub(crate) settings: Settings,
    /// The URL without its password, for logs.
    pub(crate) shown: String,
    pub(crate) client: Client,
    pub(crate) connection_config: AsyncConnectionConfig,
    pub(crate) link: RwLock<Link>,
    /// Commands in a row that got no answer in time: the connection's generation (low 32 bits)
    /// in the high half, the count in the low half.
    pub(crate) unanswered: AtomicU64,
    /// Woken when a connection is installed, or an attempt failed.
    pub(crate) connected: Notify,
    /// Whether a reconnect task is running.
    pub(crate) connecting: AtomicBool,
    /// Why the last connection attempt failed, while not connected.
    pub(crate) last_connect_error: Mutex<Option<String>>,
    /// Connection attempts that failed.
    pub(crate) connect_failures: AtomicU64,
    /// Commands waiting for the pipeline in flight to come back.
    pub(crate) batch: Mutex<Batch>,
}

impl Redis {
    /// A connection for `settings`; checks them but does not connect (the first command does).
    ///
    /// # Errors
    /// [`Error::Config`] when the URL does not parse or names a scheme other than `redis`,
    /// `rediss` or `unix`, when a CA is given for a URL without TLS, or when a time limit is zero.
    pub fn new(settings: Settings) -> Result<Redis> {
        let shown = settings.redacted_url();
        if settings.connect_timeout.is_zero() {
            return Err(Error::Config(format!(
                "Redis store {shown}: connect_timeout is 0; expected a time limit such as 2 s"
            )));
        }
        if settings.command_timeout.is_zero() {
            return Err(Error::Config(format!(
                "Redis store {shown}: command_timeout is 0; expected a time limit such as 2 s"
            )));
        }
        let bad_url = |e: RedisError| {
            Error::Config(format!(
                "Redis URL {shown}: {e}; expected redis://[[user]:password@]host[:port][/db] \
                 or rediss://... for TLS"
            ))
        };
        let client = match &settings.tls_root_cert {
            None => Client::open(settings.url.as_str()).map_err(bad_url)?,
            Some(_) if !settings.url.starts_with("rediss://") => {
                return Err(Error::Config(format!(
                    "Redis store {shown}: tls_root_cert is set but the URL is not rediss://; \
                     expected a rediss:// URL, or no tls_root_cert"
                )));
            }
            Some(pem) => Client::build_with_tls(
                settings.url.as_str(),
                redis::TlsCertificates {
                    client_tls: None,
                    root_cert: Some(pem.clone()),
                },
            )
            .map_err(bad_url)?,
        };
        let connection_config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(settings.connect_timeout))
            .set_response_timeout(Some(settings.command_timeout));
        Ok(Redis {
            shared: Arc::new(Shared {
                shown,
                settings,
                client,
                connection_config,
                link: RwLock::new(Link {
                    generation: 0,
                    connection: None,
                }),
                unanswered: AtomicU64::new(0),
                connected: Notify::new(),
                connecting: AtomicBool::new(false),
                last_connect_error: Mutex::new(None),
                connect_failures: AtomicU64::new(0),
                batch: Mutex::new(Batch::default()),
            }),
        })
    }

    /// The settings the connection was made with.
    pub fn settings(&self) -> &Settings {
        &self.shared.settings
    }

    /// The server's URL with its password hidden, for logs and errors.
    pub fn redacted_url(&self) -> &str {
        &self.shared.shown
    }

    /// Whether a connection believed to be working is installed.
    pub fn is_connected(&self) -> bool {
        self.shared.current().is_some()
    }

    /// How many connections have been made: 1 after the first command, one more after each
    /// reconnect.
    pub fn connections(&self) -> u64 {
        self.shared
            .link
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .generation
    }

    /// How many connection attempts have failed.
    pub fn connect_failures(&self) -> u64 {
        self.shared.connect_failures.load(Ordering::Relaxed)
    }

    /// Sends `cmd` and reads its answer as `T`, within the settings' `command_timeout`.
    ///
    /// # Errors
    /// Redis answered with an error (or an answer that is not a `T`), or could not be asked in
    /// time: see [`Error`].
    pub async fn query<T: FromRedisValue>(&self, cmd: Cmd) -> Result<T> {
        self.query_within(cmd, self.shared.settings.command_timeout)
            .await
    }

    /// Sends `cmd` and reads its answer as `T`, within `limit` (or the settings'
    /// `command_timeout` when that is shorter: the shorter limit wins).
    ///
    /// # Errors
    /// As [`Redis::query`].
    pub async fn query_within<T: FromRedisValue>(&self, cmd: Cmd, limit: Duration) -> Result<T> {
        let value = self.value_within(cmd, limit).await?;
        redis::from_redis_value(value).map_err(|e| Error::Redis(RedisError::from(e)))
    }

    /// Sends `cmd` and returns Redis' answer as it came (a reply holding an error is an
    /// [`Error::Redis`]), within `limit` or the settings' `command_timeout`, the shorter.
    ///
    /// # Errors
    /// As [`Redis::query`].
    pub async fn value_within(&self, cmd: Cmd, limit: Duration) -> Result<Value> {
        let limit = limit.min(self.shared.settings.command_timeout);
        self.shared.send(cmd, limit).await
    }

    /// Runs a Lua script (`EVALSHA`, and `EVAL` when the server does not know it yet) and reads
    /// its answer as `T`, within the settings' `command_timeout`.
    ///
    /// # Errors
    /// As [`Redis::query`].
    pub async fn invoke<T: FromRedisValue>(&self, call: &ScriptCall<'_>) -> Result<T> {
        match self.query(call.cmd(false)).await {
            Err(Error::Redis(e))
                if e.kind() == redis::ErrorKind::Server(redis::ServerErrorKind::NoScript) =>
            {
                self.query(call.cmd(true)).await
            }
            other => other,
        }
    }

    /// Whether Redis answers `PING`, within the settings' `command_timeout`.
    ///
    /// # Errors
    /// As [`Redis::query`].
    pub async fn ping(&self) -> Result<()> {
        self.query::<String>(redis::cmd("PING")).await.map(|_| ())
    }
}

impl std::fmt::Debug for Redis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redis")
            .field("settings", &self.shared.settings)
            .field("connected", &self.is_connected())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configuration_errors_name_the_problem_and_hide_the_password() {
        let bad = [
            (Settings::new("http://:pw@h:1"), "Redis URL"),
            (
                Settings::new("redis://h").with_command_timeout(Duration::ZERO),
                "command_timeout",
            ),
            (
                Settings::new("redis://h").with_connect_timeout(Duration::ZERO),
                "connect_timeout",
            ),
            (
                Settings::new("redis://:pw@h").with_tls_root_cert(b"pem".to_vec()),
                "rediss://",
            ),
        ];
        for (settings, names) in bad {
            let e = Redis::new(settings).unwrap_err().to_string();
            assert!(e.contains(names), "{e}");
            assert!(!e.contains("pw@"), "{e}");
        }
    }

    #[test]
    fn making_a_connection_needs_no_runtime_and_does_not_connect() {
        // Nothing listens on port 1; nothing is attempted either.
        let r = Redis::new(Settings::new("redis://:pw@127.0.0.1:1/0")).unwrap();
        assert!(!r.is_connected());
        assert_eq!(r.connections(), 0);
        assert_eq!(r.redacted_url(), "redis://:***@127.0.0.1:1/0");
        assert!(!format!("{r:?}").contains("pw"));
    }

    #[test]
    fn tls_urls_are_accepted() {
        let r = Redis::new(Settings::new("rediss://:pw@example.com:6380/2")).unwrap();
        assert!(!r.is_connected());
    }
}
