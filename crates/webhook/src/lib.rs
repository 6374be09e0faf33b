//! Hookshot's webhook engine: an event goes in, a rendered, de-duplicated HTTP request comes out.
//!
//! It composes a [`Renderer`](hookshot_template::Renderer), a
//! [`CooldownStore`](hookshot_cooldown::CooldownStore) and a [`Transport`](hookshot_transport::Transport)
//! through their traits, so a Rust user can bring their own store or transport.
//!
//! Architecture invariant: this crate sees stores, renderers and transports only through their traits;
//! it knows nothing of Redis, of configuration files or of the gateway's HTTP server.

pub use hookshot_cooldown::{Claim, CooldownStore};
pub use hookshot_event::{Event, EventType, WebhookConfig};
pub use hookshot_template::Renderer;
pub use hookshot_transport::{Transport, WebhookRequest};

/// Where a gateway fires events. Firing never waits on the network: an implementation queues the
/// event (or drops and counts it when its queue is full) and returns at once.
#[cfg_attr(test, mockall::automock)]
pub trait EventSink: Send + Sync {
    /// Hands `event` over for delivery to the handlers registered for its type and API.
    fn fire(&self, event: Event);
}
