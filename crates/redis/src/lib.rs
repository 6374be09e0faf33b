//! One connection to one Redis for Hookshot: multiplexed and pipelining, reconnecting by itself,
//! every command answered within a deadline.
//!
//! A process that talks to one Redis makes one [`Redis`] from [`Settings`] (the URL, TCP or TLS,
//! and one set of time limits: a connection attempt's and a command's) and clones it to every
//! part that needs it, so they share one connection and see the same health. Commands made while
//! a pipeline is out go together in the next, so under load many commands share a system call.
//! When the connection breaks (an error, or three commands in a row unanswered in time) it is
//! dropped and remade in the background with backoff; while Redis cannot be reached, commands fail
//! at once instead of waiting for their limit. No command waits longer than its limit: past it the
//! caller gets an [`Error`] saying what failed, never the URL's password.
//!
//! ```no_run
//! # async fn example() -> hookshot_redis::Result<()> {
//! use std::time::Duration;
//! use hookshot_redis::{Redis, Settings, cmd};
//!
//! let redis = Redis::new(
//!     Settings::new("redis://127.0.0.1:6379/0").with_command_timeout(Duration::from_millis(500)),
//! )?;
//! let mut set = cmd("SET");
//! set.arg("greeting").arg("hello");
//! redis.query::<()>(set).await?;
//! let mut get = cmd("GET");
//! get.arg("greeting");
//! assert_eq!(redis.query::<Option<String>>(get).await?.as_deref(), Some("hello"));
//! # Ok(())
//! # }
//! ```
//!
//! Architecture invariant: this crate knows Redis and nothing of events, webhooks, cool-downs or
//! the gateway; no other Hookshot crate is in its tree.

mod commands;
mod connection;
mod error;
mod pipeline;
mod script;
mod settings;

pub use commands::Redis;
pub use error::{Error, Result};
pub use redis::{Cmd, ErrorKind, FromRedisValue, RedisError, ToRedisArgs, Value, cmd};
pub use script::{Script, ScriptCall};
pub use settings::{Settings, redact};
