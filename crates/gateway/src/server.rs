//! Serving a [`Gateway`] on a socket (HTTP/1.1 and HTTP/2 through hyper-util), and running the
//! whole gateway from a loaded configuration: storage, webhook dispatcher, signals.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hookshot_event::ConfigErrors;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;

use crate::api::{self, ApiSet};
use crate::app::{Gateway, GatewayParts};
use crate::config::{EXAMPLE_API, EXAMPLE_API_NAME, LoadedConfig, StorageType};
use crate::events::Events;
use crate::store::{KeyStore, LimitStore, MemoryStore, StoreError};
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

/// Serves `gateway` on `listener` until `shutdown` completes; then stops accepting and waits
/// up to `grace` for the requests in flight.
pub async fn serve(
    listener: TcpListener,
    gateway: Arc<Gateway>,
    shutdown: impl Future<Output = ()>,
    grace: Duration,
) {
    let builder = auto::Builder::new(TokioExecutor::new());
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let gw = gateway.clone();
                let service = service_fn(move |req: http::Request<Incoming>| {
                    let gw = gw.clone();
                    async move {
                        let req = req.map(|b| b.map_err(Into::into).boxed());
                        Ok::<_, std::convert::Infallible>(gw.handle(req, peer).await)
                    }
                });
                let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
                let conn = graceful.watch(conn.into_owned());
                tokio::spawn(async move {
                    if let Err(e) = conn.await {
                        tracing::debug!(error = %e, %peer, "connection ended with an error");
                    }
                });
            }
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    tracing::info!("no longer accepting; finishing requests in flight");
    if tokio::time::timeout(grace, graceful.shutdown())
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

/// The key and limit stores of a gateway.
#[derive(Clone)]
pub struct Stores {
    /// Key sessions.
    pub keys: Arc<dyn KeyStore>,
    /// Rate and quota counters.
    pub limits: Arc<dyn LimitStore>,
    /// `memory` or `redis`.
    pub name: &'static str,
}

/// The key and limit stores `storage` names.
pub fn open_storage(loaded: &LoadedConfig) -> Result<Stores, RunError> {
    match loaded.config.storage.kind {
        StorageType::Memory => {
            let m = Arc::new(MemoryStore::new());
            Ok(Stores {
                keys: m.clone(),
                limits: m,
                name: "memory",
            })
        }
        #[cfg(feature = "redis")]
        StorageType::Redis => {
            let r = Arc::new(crate::store::RedisStore::open(&loaded.config.storage)?);
            Ok(Stores {
                keys: r.clone(),
                limits: r,
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
    pub events: Arc<Events>,
    /// The bound listener.
    pub listener: TcpListener,
    /// Its address.
    pub addr: SocketAddr,
    signals: Signals,
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
        name: storage_name,
    } = open_storage(loaded)?;
    let events = Arc::new(Events::start(loaded, &apis)?);
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
        upstream_tls,
        storage_name: storage_name.to_owned(),
        send_keys_in_clear: loaded.config.hookshot.send_keys_in_clear,
        storage_deadline: Duration::from_millis(loaded.config.storage.request_deadline_ms),
    })
    .with_reloader(Box::new(move || load_apis(&reload_conf)))
    .with_apis_hook(Box::new(move |set| hook_events.set_apis(set)))
    .with_metrics_source(Box::new(move |out| metrics_events.render_metrics(out)));
    let host = if loaded.config.listen_address.is_empty() {
        "0.0.0.0"
    } else {
        loaded.config.listen_address.as_str()
    };
    let addr = format!("{host}:{}", loaded.config.listen_port);
    let listener = TcpListener::bind(&addr)
        .await
        .map_err(|source| RunError::Bind {
            addr: addr.clone(),
            source,
        })?;
    let addr = listener
        .local_addr()
        .map_err(|source| RunError::Bind { addr, source })?;
    Ok(Running {
        gateway: Arc::new(gateway),
        events,
        listener,
        addr,
        signals: Signals::register(),
    })
}

/// Runs a started gateway until SIGTERM or ctrl-c: SIGHUP reloads the API definitions; at
/// shutdown it stops accepting, finishes requests in flight, then drains the webhook queue up to
/// `hookshot.shutdown_grace_secs`.
pub async fn run(running: Running, grace: Duration) {
    let Running {
        gateway,
        events,
        listener,
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
    serve(listener, gateway, shutdown_signal(term), grace).await;
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
