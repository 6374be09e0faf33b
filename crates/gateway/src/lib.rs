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
//! The gateway answers without a socket, here on the bundled example's APIs, memory storage and
//! a sink that keeps the events it is given:
//!
//! ```
//! use std::sync::{Arc, Mutex};
//!
//! use bytes::Bytes;
//! use hookshot_gateway::app::{Gateway, GatewayParts};
//! use hookshot_gateway::{config, server, store::MemoryStorage};
//! use hookshot_webhook::{Event, EventSink, EventType};
//! use http_body_util::{BodyExt, Empty};
//!
//! #[derive(Default)]
//! struct Kept(Mutex<Vec<Event>>);
//!
//! impl EventSink for Kept {
//!     fn fire(&self, event: Event) {
//!         self.0.lock().unwrap().push(event);
//!     }
//! }
//!
//! #[tokio::main(flavor = "current_thread")]
//! async fn main() {
//!     let loaded = config::example();
//!     let storage = Arc::new(MemoryStorage::new());
//!     let events = Arc::new(Kept::default());
//!     let gateway = Gateway::new(GatewayParts {
//!         secret: String::new(),
//!         apis: server::load_apis(&loaded).unwrap(),
//!         keys: storage.clone(),
//!         limits: storage,
//!         sink: events.clone(),
//!         upstream_timeout: None,
//!         storage_name: "memory".into(),
//!         send_keys_in_clear: false,
//!     });
//!     let request = http::Request::get("/orders/42")
//!         .header("Authorization", "no-such-key")
//!         .body(Empty::<Bytes>::new().map_err(Into::into).boxed())
//!         .unwrap();
//!     let response = gateway.handle(request, "203.0.113.7:5000".parse().unwrap()).await;
//!     assert_eq!(response.status(), 403); // Tyk's answer to an unknown key
//!     let fired = events.0.lock().unwrap();
//!     assert_eq!(fired[0].event_type, EventType::AuthFailure);
//!     assert_eq!(fired[0].meta.to_json()["Key"], "****-key"); // obfuscated as Tyk's logs do
//! }
//! ```
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
