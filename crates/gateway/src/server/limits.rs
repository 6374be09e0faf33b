//! The limits a listener applies to its clients, and the connection builder they configure.

use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioTimer};
use hyper_util::server::conn::auto;

use crate::config::{DEFAULT_READ_TIMEOUT_SECS, GatewayConfig, MIN_HEADER_BYTES};

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

    pub(super) fn builder(&self) -> auto::Builder<TokioExecutor> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
