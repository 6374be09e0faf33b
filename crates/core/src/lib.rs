//! The seams of Hookshot's webhook engine, and only the seams.
//!
//! A webhook handler composes three parts through traits: a [`Renderer`] turns an event into a
//! body, a [`CooldownStore`] claims the request's [`Checksum`] so that identical events within a
//! window are sent once, and a [`Transport`] sends the [`WebhookRequest`]. An [`EventHandler`]
//! works in [`Step`]s so a dispatcher can hold a delivery slot only while a request is on the
//! wire, carrying a [`Pending`] delivery between attempts; an [`EventSink`] is where a gateway
//! fires events. Everything an implementation of these needs is here, so a crate that brings its
//! own store, renderer or transport depends on this crate and `hookshot-event` alone.
//!
//! ```
//! use std::sync::Mutex;
//!
//! use hookshot_core::{Delivered, Transport, TransportError, WebhookRequest, async_trait};
//!
//! /// A transport that hands requests to a queue instead of the network.
//! #[derive(Default)]
//! struct Queue(Mutex<Vec<WebhookRequest>>);
//!
//! #[async_trait]
//! impl Transport for Queue {
//!     async fn send(&self, request: WebhookRequest) -> Result<Delivered, TransportError> {
//!         if request.url.host().is_none() {
//!             return Err(TransportError::invalid_request("the URL has no host"));
//!         }
//!         self.0.lock().unwrap().push(request);
//!         Ok(Delivered { status: http::StatusCode::ACCEPTED })
//!     }
//! }
//! ```
//!
//! Architecture invariant: this crate declares traits and the plain types they speak in; it
//! implements none of them and depends on no template engine, HTTP client, Redis client or async
//! runtime (no liquid, hyper, redis or tokio in its tree).

mod cooldown;
mod handler;
mod render;
mod sink;
mod target_url;
pub mod transport;

pub use async_trait::async_trait;
pub use cooldown::{
    Checksum, Claim, ClaimStats, CooldownStore, ParseChecksumError, TYK_KEY_PREFIX,
};
pub use handler::{EventHandler, FailReason, Outcome, Pending, Step};
pub use hookshot_event::{Event, EventType};
pub use render::{RenderError, Renderer};
pub use sink::EventSink;
pub use target_url::{TargetUrl, TargetUrlError};
/// Why a [`Transport`] did not deliver a request ([`transport::Error`]).
pub use transport::Error as TransportError;
pub use transport::{Delivered, Transport, WebhookRequest, redacted};

#[cfg(feature = "mock")]
pub use cooldown::MockCooldownStore;
#[cfg(feature = "mock")]
pub use handler::MockEventHandler;
#[cfg(feature = "mock")]
pub use render::MockRenderer;
#[cfg(feature = "mock")]
pub use sink::MockEventSink;
#[cfg(feature = "mock")]
pub use transport::MockTransport;
