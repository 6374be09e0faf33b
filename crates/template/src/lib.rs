//! Webhook body templates for Hookshot.
//!
//! Templates are liquid; Tyk's Go-syntax templates are recognised and translated, so that templates
//! written for Tyk render unchanged. A template is parsed once and rendered many times against an
//! [`Event`](hookshot_event::Event).
//!
//! Architecture invariant: this crate knows the event model and liquid, and nothing of HTTP, stores,
//! async runtimes or the gateway.

mod error;

pub use error::{Error, Result};

use hookshot_event::Event;

/// Something that turns an event into a request body.
#[cfg_attr(feature = "mock", mockall::automock)]
pub trait Renderer: Send + Sync {
    /// The body for `event`.
    fn render(&self, event: &Event) -> Result<String>;
}
