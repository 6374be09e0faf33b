//! The Hookshot API gateway, as a library: configuration, API definitions, key auth and limits,
//! the proxy, Tyk's gateway API, and the composition of the webhook engine.
//!
//! Operators keep their Tyk configuration (`tyk.conf`-style JSON and an `app_path` folder of API
//! definitions); this crate reads it, refuses what is wrong with messages that name the file, API,
//! event and field, and serves it. How the parts fit:
//! - [`config::load`] (or [`config::example`]) reads the configuration, [`server::load_apis`] the APIs;
//! - [`server::open_storage`] opens the key and limit stores ([`store::MemoryStorage`] or [`store::RedisStorage`]) and the cool-down store, on one Redis connection when storage is Redis;
//! - [`events::WebhookEngine`] builds the webhook routes ([`events::routes`]) and starts the dispatcher,
//!   which is the [`EventSink`](hookshot_webhook::EventSink) the gateway fires into;
//! - [`app::Gateway`] answers requests ([`app::Gateway::handle`], callable without a socket);
//! - [`server::start`] and [`server::run`] do all of that, bind, serve and handle signals.
//!
//! Architecture invariant: this is the only crate that knows about configuration files, the HTTP
//! server and the runtime; `main.rs` only parses arguments, sets up logging and calls in here.

mod admin;
pub mod api;
pub mod app;
pub mod check;
pub mod config;
pub mod events;
pub mod listen;
pub mod metrics;
pub mod path;
pub mod proxy;
pub mod render;
pub mod server;
pub mod session;
pub mod store;
