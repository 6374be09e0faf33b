//! Errors of assembling webhook handlers.

/// A handler could not be assembled from its configuration.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A `header_map` entry is not a valid header.
    #[error("webhook {handler}: header {name:?} is not valid: {why}")]
    Header {
        /// The handler's label.
        handler: String,
        /// The header name.
        name: String,
        /// What is wrong.
        why: String,
    },
    /// The signing secret cannot be used.
    #[error("webhook {handler}: signing_secret: {why}")]
    Secret {
        /// The handler's label.
        handler: String,
        /// What is wrong.
        why: String,
    },
}

/// A result of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
