//! The renderer seam: an event in, a request body out.

use hookshot_event::Event;

/// Something that turns an event into a request body.
#[cfg_attr(feature = "mock", mockall::automock)]
pub trait Renderer: Send + Sync {
    /// The body for `event`.
    fn render(&self, event: &Event) -> Result<String, RenderError>;

    /// The `Content-Type` of the bodies it renders, when it knows one (`application/json` for a
    /// JSON template); a webhook sends it unless its headers set another.
    fn content_type(&self) -> Option<&'static str>;
}

/// A body could not be rendered for an event: the message names the template and what went wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct RenderError {
    message: String,
}

impl RenderError {
    /// An error with `message`, which should name the template and the event's value at fault.
    pub fn new(message: impl Into<String>) -> RenderError {
        RenderError {
            message: message.into(),
        }
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }
}
