//! Errors of loading and rendering templates.

/// A template could not be loaded or rendered.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Rendering failed.
    #[error("rendering {template}: {message}")]
    Render {
        /// The template's name or path.
        template: String,
        /// What went wrong.
        message: String,
    },
}

/// A result of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
