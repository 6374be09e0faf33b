//! The Hookshot API gateway, as a library: configuration, API definitions and the checks run at start.
//!
//! Operators keep their Tyk configuration (`tyk.conf`-style JSON and an `app_path` folder of API
//! definitions); this crate reads it, refuses what is wrong with messages that name the file, API,
//! event and field, and composes the webhook engine.
//!
//! Architecture invariant: this is the only crate that knows about configuration files, the HTTP
//! server and the runtime; `main.rs` only parses arguments, sets up logging and calls in here.

pub mod check;
