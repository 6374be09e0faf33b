//! Hookshot's end-to-end tests live in `tests/tests/`: they run the real `hookshot` binary against
//! real receivers on loopback and the Redis that `cargo xtask test` starts.
//!
//! This crate has no library code of its own and must not be depended on.
