//! The sink seam: where a gateway fires events.

use hookshot_event::Event;

/// Where a gateway fires events. Firing never waits on the network: an implementation queues the
/// event (or drops and counts it when its queue is full) and returns at once.
#[cfg_attr(feature = "mock", mockall::automock)]
pub trait EventSink: Send + Sync {
    /// Hands `event` over for delivery to the handlers registered for its type and API.
    fn fire(&self, event: Event);
}
