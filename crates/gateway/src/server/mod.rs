//! Serving a [`Gateway`] on a socket (HTTP/1.1 and HTTP/2 through hyper-util), and running the
//! whole gateway from a loaded configuration: storage, webhook dispatcher, signals.
//!
//! Each stage has its file: `limits` holds what a listener allows its clients, `accept` the
//! accept loop that serves one listener, `start` the start-up (APIs, storage, gateway, bound
//! listeners), and `run` the running gateway's signals (reload, shutdown).

mod accept;
mod limits;
mod run;
mod start;

use std::net::SocketAddr;
use std::sync::Arc;

use hookshot_config::ConfigErrors;
use tokio::net::TcpListener;

use crate::app::Gateway;
use crate::events::WebhookEngine;
use crate::store::StoreError;

pub use accept::serve;
pub use limits::ListenerLimits;
use run::Signals;
pub use run::run;
pub use start::{Stores, load_apis, open_storage, start};

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
