//! Cool-down stores for Hookshot webhooks: Tyk's request checksum and an atomic claim, in memory
//! or on Redis.
//!
//! A webhook handler computes the [`Checksum`] of the request it is about to send and
//! [claims](CooldownStore::claim) it for the handler's `event_timeout`: of identical claims within
//! the window exactly one wins and is sent; the others are suppressed.
//!
//! The seam ([`CooldownStore`], [`Claim`], [`Checksum`]) is declared in `hookshot-core` and
//! re-exported here.
//!
//! Architecture invariant: this crate knows the event model and the cool-down seam, and nothing of
//! templates, HTTP clients or the gateway; Redis and Tokio are behind the `redis` feature (without it the crate needs no
//! runtime).
//!
//! # The checksum
//!
//! [`request_checksum`] is the MD5 of the bytes Go's `http.Request.Write` produces for the
//! request Tyk builds (method, URL, rendered body; `header_map` is not part of it):
//!
//! ```text
//! METHOD /path?query HTTP/1.1\r\n
//! Host: host[:port]\r\n
//! User-Agent: Go-http-client/1.1\r\n
//! Content-Length: N\r\n      (absent for GET, DELETE and HEAD with an empty body)
//! \r\n
//! <body>
//! ```
//!
//! ```
//! use std::time::Duration;
//! use hookshot_cooldown::{Claim, MemoryStore, TargetUrl, request_checksum};
//!
//! let url = TargetUrl::parse("http://127.0.0.1:16500/get").unwrap();
//! let body = "{\"event\": \"QuotaExceeded\"}";
//! let checksum = request_checksum("POST", &url, body.as_bytes());
//! assert_eq!(checksum.key(hookshot_cooldown::TYK_KEY_PREFIX).len(), 14 + 32);
//!
//! // Through the `CooldownStore` trait a claim is `store.claim(&checksum, window).await`.
//! let store = MemoryStore::new();
//! let window = Duration::from_secs(10);
//! assert_eq!(store.claim_sync(&checksum, window), Claim::Won);
//! assert_eq!(store.claim_sync(&checksum, window), Claim::Held);
//! assert_eq!(store.claim_sync(&checksum, Duration::ZERO), Claim::Won);
//! ```
//!
//! The [`checksum`] module lists Go's rules for the host, the path and `Content-Length`; the tests
//! check them against Go's own output and Tyk's test vector. The store key is
//! `webhook.cache.<32 lower-case hex digits>` ([`TYK_KEY_PREFIX`]) with the value `1`, so Tyk
//! gateways and Hookshot gateways sharing one Redis suppress each other's duplicates.
//!
//! # The claim is atomic
//!
//! Tyk checks the key with `GET` before sending and writes it with `SET` after the attempt, so
//! identical events that arrive together (on one gateway or several) are all sent. Here the check
//! and the write are one step: [`MemoryStore`] under a shard lock, `RedisStore` (feature `redis`)
//! with one `SET key 1 NX EX seconds`. Of any number of identical claims within the window exactly
//! one gets [`Claim::Won`]. A zero window is "no cool-down": it always wins and stores nothing
//! (Tyk instead stores the key without expiry, so that payload is never sent again).
//!
//! # When the store cannot be asked
//!
//! `RedisStore` gives up after a configurable time limit (250 ms by default) and answers
//! [`Claim::Unavailable`] with its policy: fail-open (`send: true`, the default, Tyk's effective
//! behaviour: a webhook is sent rather than lost) or fail-closed (`send: false`: nothing may be
//! sent twice). Failures are counted ([`ClaimStats`]) and logged at most once per interval; the
//! store reconnects by itself.
//!
//! # Memory
//!
//! [`MemoryStore`] keeps 24 bytes per slot (checksum and expiry) in tables kept between 1/4 and 3/4
//! full (3/8 to 3/4 while the store grows): 32 to 64 bytes per live entry in growth, about 50 at
//! 1 million entries as `cargo xtask bench` measures, at most 96 once sweeping has caught up. Expired entries are
//! reclaimed as claims go on, with bounded work per claim (see [`memory`]).

pub mod checksum;
mod error;
pub mod memory;
#[cfg(feature = "redis")]
mod redis_store;

pub use checksum::of_request as request_checksum;
pub use error::{Error, Result};
pub use memory::MemoryStore;
#[cfg(feature = "redis")]
pub use redis_store::{FailurePolicy, RedisConfig, RedisStore};

#[cfg(feature = "mock")]
pub use hookshot_core::MockCooldownStore;
/// The seam, and the URL type a checksum is computed over.
pub use hookshot_core::{
    Checksum, Claim, ClaimStats, CooldownStore, ParseChecksumError, TYK_KEY_PREFIX, TargetUrl,
};
