//! Errors of cool-down stores.

/// A store could not be set up or asked.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The store's configuration is wrong.
    #[error("cool-down store configuration: {0}")]
    Config(String),
}

/// A result of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
