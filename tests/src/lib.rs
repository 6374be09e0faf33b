//! Hookshot's end-to-end tests live in `tests/tests/`: they run the real `hookshot` binary against
//! real receivers on loopback and the Redis that `cargo xtask test` starts.
//!
//! This crate has no library code of its own and must not be depended on.

/// The README's Rust examples, compiled and run as doctests, so the README cannot drift from the
/// crates it shows.
#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeExamples;
