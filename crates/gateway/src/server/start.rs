//! Start-up: the APIs a configuration names, its storage, the gateway built from them, and its
//! bound listeners.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hookshot_config::ConfigErrors;
use hookshot_webhook::CooldownStore;
use tokio::net::TcpListener;

use super::{ListenerLimits, RunError, Running, Signals};
use crate::api::{self, ApiSet};
use crate::app::{Gateway, GatewayParts};
use crate::config::{EXAMPLE_API, EXAMPLE_API_NAME, LoadedConfig, StorageType};
use crate::events::WebhookEngine;
#[cfg(not(feature = "redis"))]
use crate::store::StoreError;
use crate::store::{KeyStore, LimitStore, MemoryStorage};

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_open_file_limit_is_read_on_linux() {
        if cfg!(target_os = "linux") {
            assert!(open_file_limit().is_some_and(|n| n > 0));
        }
    }
}
