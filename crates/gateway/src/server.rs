//! Serving a [`Gateway`] on a socket (HTTP/1.1 and HTTP/2 through hyper-util), and running the
//! whole gateway from a loaded configuration: storage, webhook dispatcher, signals.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hookshot_config::ConfigErrors;
use hookshot_webhook::CooldownStore;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio::time::Instant;

use crate::api::{self, ApiSet};
use crate::app::{Endpoints, Gateway, GatewayParts};
use crate::config::{
    DEFAULT_READ_TIMEOUT_SECS, EXAMPLE_API, EXAMPLE_API_NAME, GatewayConfig, LoadedConfig,
    MIN_HEADER_BYTES, StorageType,
};
use crate::events::WebhookEngine;
use crate::store::{KeyStore, LimitStore, MemoryStorage, StoreError};
use http_body_util::BodyExt;

/// Why the gateway could not start.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The configuration, an API definition, a handler or a template is wrong.
    #[error("{0}")]
    Config(#[from] ConfigErrors),
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: String,
        /// Why.
        source: std::io::Error,
    },
    /// The storage could not be set up.
    #[error("{0}")]
    Store(#[from] StoreError),
}

/// The limits a listener applies to its clients, from `http_server_options` and the
/// `hookshot` section of the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListenerLimits {
    /// How long a client has to send a whole request head (HTTP/1), counted from when the
    /// listener starts waiting for one.
    pub header_read_timeout: Duration,
    /// How long a connection may stay with no request in progress before it is closed.
    pub idle_timeout: Duration,
    /// How often an otherwise quiet HTTP/2 connection is pinged (`None`: never).
    pub http2_keep_alive_interval: Option<Duration>,
    /// How long the answer to an HTTP/2 ping may take before the connection is closed.
    pub http2_keep_alive_timeout: Duration,
    /// How many connections are open at once; beyond it, accepting waits.
    pub max_connections: usize,
    /// The largest request head, in bytes.
    pub max_header_bytes: usize,
}

impl ListenerLimits {
    /// The limits `config` sets.
    pub fn from_config(config: &GatewayConfig) -> ListenerLimits {
        let h = &config.hookshot;
        let read = match config.http_server_options.read_timeout {
            0 => DEFAULT_READ_TIMEOUT_SECS,
            secs => secs,
        };
        ListenerLimits {
            header_read_timeout: Duration::from_secs(read),
            idle_timeout: Duration::from_secs(h.idle_timeout_secs),
            http2_keep_alive_interval: (h.http2_keep_alive_interval_secs > 0)
                .then(|| Duration::from_secs(h.http2_keep_alive_interval_secs)),
            http2_keep_alive_timeout: Duration::from_secs(h.http2_keep_alive_timeout_secs),
            max_connections: h.max_connections,
            max_header_bytes: h.max_header_bytes,
        }
    }

    fn builder(&self) -> auto::Builder<TokioExecutor> {
        let mut builder = auto::Builder::new(TokioExecutor::new());
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(self.header_read_timeout)
            .max_buf_size(self.max_header_bytes.max(MIN_HEADER_BYTES));
        builder
            .http2()
            .timer(TokioTimer::new())
            .keep_alive_interval(self.http2_keep_alive_interval)
            .keep_alive_timeout(self.http2_keep_alive_timeout)
            .max_header_list_size(u32::try_from(self.max_header_bytes).unwrap_or(u32::MAX));
        builder
    }
}

impl Default for ListenerLimits {
    fn default() -> Self {
        ListenerLimits::from_config(&GatewayConfig::default())
    }
}

/// Whether a connection has a request in progress, and since when it has had none, for its
/// idle timeout. Requests only touch two atomics; the connection's one timer re-arms itself.
struct Activity {
    opened: Instant,
    in_flight: AtomicUsize,
    /// Milliseconds from `opened` to when the last request ended.
    idle_since_ms: AtomicU64,
}

/// A request in progress on a connection; it ends when dropped.
struct InFlight(Arc<Activity>);

impl Activity {
    fn new() -> Activity {
        Activity {
            opened: Instant::now(),
            in_flight: AtomicUsize::new(0),
            idle_since_ms: AtomicU64::new(0),
        }
    }

    fn begin(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        InFlight(self.clone())
    }

    /// Completes once the connection has had no request in progress for `idle`.
    async fn idle_for(&self, idle: Duration) {
        let mut deadline = self.opened + idle;
        loop {
            tokio::time::sleep_until(deadline).await;
            let now = Instant::now();
            if self.in_flight.load(Ordering::SeqCst) > 0 {
                deadline = now + idle;
                continue;
            }
            let since =
                self.opened + Duration::from_millis(self.idle_since_ms.load(Ordering::SeqCst));
            if now >= since + idle {
                return;
            }
            deadline = since + idle;
        }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        // The end time is written before the count goes down, so that whoever sees no request
        // in progress also sees when the last one ended.
        let activity = &self.0;
        let ms = u64::try_from(activity.opened.elapsed().as_millis()).unwrap_or(u64::MAX);
        activity.idle_since_ms.fetch_max(ms, Ordering::SeqCst);
        activity.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Serves `gateway`'s `endpoints` on `listener` within `limits` until `shutdown` completes;
/// then stops accepting, lets each connection finish the requests it has in progress, and waits
/// up to `grace` for them.
///
/// Each connection holds one of `limits.max_connections` permits; without a free one the
/// listener accepts nothing until a connection closes (clients wait in the kernel's backlog).
/// A connection with no request in progress for `limits.idle_timeout` is closed gracefully.
pub async fn serve(
    listener: TcpListener,
    gateway: Arc<Gateway>,
    endpoints: Endpoints,
    limits: ListenerLimits,
    shutdown: impl Future<Output = ()>,
    grace: Duration,
) {
    let builder = limits.builder();
    let max = limits.max_connections.clamp(1, Semaphore::MAX_PERMITS);
    let permits = Arc::new(Semaphore::new(max));
    let (closing, close) = watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let gw = gateway.clone();
        let activity = Arc::new(Activity::new());
        let requests = activity.clone();
        let service = service_fn(move |req: http::Request<Incoming>| {
            let gw = gw.clone();
            let in_flight = requests.begin();
            async move {
                let req = req.map(|b| b.map_err(Into::into).boxed());
                let response = gw.handle_on(req, peer, endpoints).await;
                drop(in_flight);
                Ok::<_, std::convert::Infallible>(response)
            }
        });
        let conn = builder
            .serve_connection_with_upgrades(TokioIo::new(stream), service)
            .into_owned();
        let mut close = close.clone();
        let idle = limits.idle_timeout;
        tokio::spawn(async move {
            let _permit = permit;
            tokio::pin!(conn);
            let mut closing = false;
            loop {
                tokio::select! {
                    result = conn.as_mut() => {
                        if let Err(e) = result {
                            tracing::debug!(error = %e, %peer, "connection ended with an error");
                        }
                        break;
                    }
                    _ = close.wait_for(|c| *c), if !closing => {
                        conn.as_mut().graceful_shutdown();
                        closing = true;
                    }
                    () = activity.idle_for(idle), if !closing => {
                        tracing::debug!(%peer, ?idle, "closing an idle connection");
                        conn.as_mut().graceful_shutdown();
                        closing = true;
                    }
                }
            }
        });
    }
    drop(listener);
    tracing::info!("no longer accepting; finishing requests in flight");
    let _ = closing.send(true);
    let all = u32::try_from(max).unwrap_or(u32::MAX);
    if tokio::time::timeout(grace, permits.acquire_many(all))
        .await
        .is_err()
    {
        tracing::warn!(?grace, "requests still in flight at the deadline were cut");
    }
}

/// Loads the APIs a configuration names (the bundled example's embedded one, or every `*.json`
/// in `app_path`).
pub fn load_apis(loaded: &LoadedConfig) -> Result<ApiSet, ConfigErrors> {
    match loaded.app_dir() {
        None => api::load_sources(&[(EXAMPLE_API_NAME.to_owned(), EXAMPLE_API.to_owned())])
            .map(|l| l.apis),
        Some(_) if loaded.config.app_path.is_empty() => Ok(ApiSet::default()),
        Some(dir) => {
            let l = api::load_dir(&dir)?;
            for file in &l.inactive {
                tracing::info!(file, "API definition is inactive; not served");
            }
            Ok(l.apis)
        }
    }
}

/// The stores of a gateway: keys, limits and cool-downs (with Redis storage, all three on one
/// connection).
#[derive(Clone)]
pub struct Stores {
    /// Key sessions.
    pub keys: Arc<dyn KeyStore>,
    /// Rate and quota counters.
    pub limits: Arc<dyn LimitStore>,
    /// Webhook cool-downs.
    pub cooldowns: Arc<dyn CooldownStore>,
    /// `memory` or `redis`.
    pub name: &'static str,
}

/// The key, limit and cool-down stores `storage` names; with Redis, one connection serves them
/// all, so they share its health.
pub fn open_storage(loaded: &LoadedConfig) -> Result<Stores, RunError> {
    match loaded.config.storage.kind {
        StorageType::Memory => {
            let m = Arc::new(MemoryStorage::new());
            Ok(Stores {
                keys: m.clone(),
                limits: m,
                cooldowns: crate::events::cooldown_store(loaded)?,
                name: "memory",
            })
        }
        #[cfg(feature = "redis")]
        StorageType::Redis => {
            let redis = crate::store::connect(&loaded.config.storage)?;
            let cooldowns = crate::events::redis_cooldown_store(loaded, redis.clone())?;
            let r = Arc::new(crate::store::RedisStorage::on_connection(
                redis,
                &loaded.config.storage.key_prefix,
            ));
            Ok(Stores {
                keys: r.clone(),
                limits: r,
                cooldowns,
                name: "redis",
            })
        }
        #[cfg(not(feature = "redis"))]
        StorageType::Redis => {
            Err(StoreError("this binary was built without the `redis` feature".into()).into())
        }
    }
}

/// Everything a running gateway is: the app, its webhook events, and where it listens.
pub struct Running {
    /// The gateway.
    pub gateway: Arc<Gateway>,
    /// The webhook side.
    pub events: Arc<WebhookEngine>,
    /// The bound public listener: the APIs and `/hello` (and the control API unless
    /// `control_api_port` gives it a listener of its own).
    pub listener: TcpListener,
    /// Its address.
    pub addr: SocketAddr,
    /// The bound control listener (`control_api_port`) and its address: the control API
    /// (`/tyk/...`, `/metrics`) and `/hello`.
    pub control: Option<(TcpListener, SocketAddr)>,
    /// The limits every listener applies to its clients.
    pub limits: ListenerLimits,
    signals: Signals,
}

impl Running {
    /// Where the control API (`/tyk/...`, `/metrics`) is served.
    pub fn control_addr(&self) -> SocketAddr {
        self.control.as_ref().map_or(self.addr, |(_, addr)| *addr)
    }
}

/// The signals a running gateway reacts to, registered before it announces that it listens so
/// that none sent right after is missed.
struct Signals {
    #[cfg(unix)]
    hup: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    term: Option<tokio::signal::unix::Signal>,
}

impl Signals {
    fn register() -> Signals {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Signals {
                hup: signal(SignalKind::hangup()).ok(),
                term: signal(SignalKind::terminate()).ok(),
            }
        }
        #[cfg(not(unix))]
        Signals {}
    }
}

/// Builds the gateway of `loaded` and binds its listener; configuration mistakes (in the
/// configuration, API definitions, handlers or templates) are all reported together.
pub async fn start(loaded: &LoadedConfig) -> Result<Running, RunError> {
    crate::config::check_admin_secret(&loaded.config, &loaded.name)?;
    let apis = load_apis(loaded)?;
    let Stores {
        keys,
        limits,
        cooldowns,
        name: storage_name,
    } = open_storage(loaded)?;
    let events = Arc::new(WebhookEngine::start(loaded, &apis, cooldowns)?);
    let upstream_tls = crate::events::upstream_tls(loaded)?;
    if let Err(e) = keys.ping().await {
        tracing::warn!(error = %e, "storage does not answer yet; requests get 503 until it does");
    }
    let reload_conf = loaded.clone();
    let hook_events = events.clone();
    let metrics_events = events.clone();
    let gateway = Gateway::new(GatewayParts {
        secret: loaded.config.secret.clone(),
        apis,
        keys,
        limits,
        sink: events.sink(),
        upstream_timeout: (loaded.config.proxy_default_timeout > 0)
            .then(|| Duration::from_secs(loaded.config.proxy_default_timeout)),
        storage_name: storage_name.to_owned(),
        send_keys_in_clear: loaded.config.hookshot.send_keys_in_clear,
    })
    .with_upstream_tls(upstream_tls)
    .with_storage_deadline(Duration::from_millis(
        loaded.config.storage.request_deadline_ms,
    ))
    .with_reloader(Box::new(move || load_apis(&reload_conf)))
    .with_apis_hook(Box::new(move |set| hook_events.set_apis(set)))
    .with_metrics_source(Box::new(move |out| metrics_events.render_metrics(out)))
    .with_control_hostname(&loaded.config.control_api_hostname);
    let host = if loaded.config.listen_address.is_empty() {
        "0.0.0.0"
    } else {
        loaded.config.listen_address.as_str()
    };
    let (listener, addr) = bind(host, loaded.config.listen_port).await?;
    // As in Tyk, the control port is bound on the listen address; `control_api_hostname` only
    // filters requests by their host.
    let control = match loaded.config.control_api_port {
        0 => None,
        port => Some(bind(host, port).await?),
    };
    let limits = ListenerLimits::from_config(&loaded.config);
    let listeners = if control.is_some() { 2 } else { 1 };
    if let Some(soft) = open_file_limit()
        && limits.max_connections.saturating_mul(listeners) + FILES_BESIDE_CLIENTS > soft
    {
        tracing::warn!(
            max_connections = limits.max_connections,
            listeners,
            open_file_limit = soft,
            "hookshot.max_connections allows more client connections than the open-file limit \
             leaves room for beside upstream, Redis and webhook connections; lower it or raise \
             the limit (ulimit -n, LimitNOFILE)"
        );
    }
    Ok(Running {
        gateway: Arc::new(gateway),
        events,
        listener,
        addr,
        control,
        limits,
        signals: Signals::register(),
    })
}

/// Files the process needs besides client connections: upstream, Redis and webhook
/// connections, listeners, logs.
const FILES_BESIDE_CLIENTS: usize = 256;

/// The soft limit on open files (Linux: `/proc/self/limits`), when it can be read.
fn open_file_limit() -> Option<usize> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.trim_start_matches("Max open files")
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

async fn bind(host: &str, port: u16) -> Result<(TcpListener, SocketAddr), RunError> {
    let addr = crate::config::host_port(host, port);
    let listener = TcpListener::bind(&addr)
        .await
        .map_err(|source| RunError::Bind {
            addr: addr.clone(),
            source,
        })?;
    let bound = listener
        .local_addr()
        .map_err(|source| RunError::Bind { addr, source })?;
    Ok((listener, bound))
}

/// Runs a started gateway until SIGTERM or ctrl-c: SIGHUP reloads the API definitions; at
/// shutdown it stops accepting, finishes requests in flight, then drains the webhook queue up to
/// `hookshot.shutdown_grace_secs`.
pub async fn run(running: Running, grace: Duration) {
    let Running {
        gateway,
        events,
        listener,
        control,
        limits,
        signals,
        ..
    } = running;
    #[cfg(unix)]
    let term = {
        if let Some(mut hup) = signals.hup {
            let gw = gateway.clone();
            tokio::spawn(async move {
                while hup.recv().await.is_some() {
                    tracing::info!("SIGHUP: reloading API definitions");
                    let _ = gw.reload();
                }
            });
        }
        signals.term
    };
    #[cfg(not(unix))]
    let term = {
        let _ = signals;
        None::<()>
    };
    let (stop, stopped) = watch::channel(false);
    let signalled = async move {
        shutdown_signal(term).await;
        let _ = stop.send(true);
    };
    let until_stopped = |mut stopped: watch::Receiver<bool>| async move {
        let _ = stopped.wait_for(|s| *s).await;
    };
    let public_endpoints = if control.is_some() {
        Endpoints::Public
    } else {
        Endpoints::All
    };
    let public = serve(
        listener,
        gateway.clone(),
        public_endpoints,
        limits,
        until_stopped(stopped.clone()),
        grace,
    );
    let control = async {
        if let Some((listener, _)) = control {
            let done = until_stopped(stopped.clone());
            serve(
                listener,
                gateway.clone(),
                Endpoints::Control,
                limits,
                done,
                grace,
            )
            .await;
        }
    };
    tokio::join!(signalled, public, control);
    events.shutdown().await;
    tracing::info!("stopped");
}

#[cfg(unix)]
async fn shutdown_signal(term: Option<tokio::signal::unix::Signal>) {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match term {
            Some(mut s) => {
                s.recv().await;
            }
            None => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => tracing::info!("ctrl-c: shutting down"),
        () = term => tracing::info!("SIGTERM: shutting down"),
    }
}

#[cfg(not(unix))]
async fn shutdown_signal(_term: Option<()>) {
    let _ = tokio::signal::ctrl_c().await;
    tracing::info!("ctrl-c: shutting down");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_open_file_limit_is_read_on_linux() {
        if cfg!(target_os = "linux") {
            assert!(open_file_limit().is_some_and(|n| n > 0));
        }
    }

    #[test]
    fn limits_come_from_the_configuration() {
        let mut config = GatewayConfig::default();
        let defaults = ListenerLimits::from_config(&config);
        assert_eq!(defaults.header_read_timeout, Duration::from_secs(30));
        assert_eq!(defaults.idle_timeout, Duration::from_secs(60));
        assert_eq!(
            defaults.http2_keep_alive_interval,
            Some(Duration::from_secs(20))
        );
        assert_eq!(defaults.max_connections, 4_096);
        assert_eq!(defaults.max_header_bytes, 65_536);
        config.http_server_options.read_timeout = 7;
        config.hookshot.http2_keep_alive_interval_secs = 0;
        let set = ListenerLimits::from_config(&config);
        assert_eq!(set.header_read_timeout, Duration::from_secs(7));
        assert_eq!(set.http2_keep_alive_interval, None);
    }
}
