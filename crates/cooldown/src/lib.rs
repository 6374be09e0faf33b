//! Cool-down stores for Hookshot webhooks.
//!
//! A webhook handler computes the [`Checksum`] of the request it is about to send (Tyk's byte format,
//! so that Tyk and Hookshot gateways sharing one Redis suppress each other's duplicates) and
//! [claims](CooldownStore::claim) it for the handler's `event_timeout`: of identical claims within
//! the window exactly one wins and is sent.
//!
//! Architecture invariant: this crate knows the event model and nothing of templates, HTTP clients
//! or the gateway; Redis is behind the `redis` feature.

mod error;

pub use error::{Error, Result};

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;

/// The MD5 of a webhook request in the byte format Tyk uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Checksum(pub [u8; 16]);

impl Checksum {
    /// The 32 lower-case hex digits.
    pub fn to_hex(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Checksum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

/// What a claim decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// This caller holds the checksum for the window: send.
    Won,
    /// Another caller holds it: suppress.
    Held,
    /// The store could not be asked; `send` is the store's policy (fail-open sends).
    Unavailable {
        /// Whether the caller should send anyway.
        send: bool,
    },
}

impl Claim {
    /// Whether the request should be sent.
    pub fn should_send(self) -> bool {
        matches!(self, Claim::Won | Claim::Unavailable { send: true })
    }
}

/// A store of claimed checksums, each held for a window.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait CooldownStore: Send + Sync {
    /// Atomically claims `checksum` for `window`: of any number of identical claims within the
    /// window, across tasks and across processes sharing the store, exactly one gets [`Claim::Won`].
    /// A zero window always wins and stores nothing.
    async fn claim(&self, checksum: &Checksum, window: Duration) -> Claim;
}
