//! Webhook body templates for Hookshot.
//!
//! A [`Template`] is loaded from a file, a string or the shipped set, parsed once, and rendered
//! many times against an [`Event`](hookshot_event::Event). Its data is the event's serde form
//! (`Type`, `Meta.*`, `TimeStamp`, the seed document's `EventType` and `EventMetaData.*`, and
//! `API.ID` / `API.Name` / `API.OrgID`); a field the event lacks renders as nothing, so one template
//! serves every event.
//!
//! Templates are liquid, with liquid's standard filters and `as_rfc3339`,
//! `as_rfc3339_from_string` and `json`. Tyk's Go-syntax templates are recognised and translated
//! (the subset Tyk ships: field paths, `if` / `else if` / `else` / `end`, `eq`, `ne`, `lt`, `le`,
//! `gt`, `ge`, `and`, `or`, `not`, parentheses, pipes into the two time functions, comments and trim
//! markers); anything else in them is refused at load with its line and column. Values are escaped
//! by the template's [`Escaping`]: a `.json` template always renders valid JSON, and a Go-syntax
//! template of any other name renders the bytes Tyk's `html/template` renders. Templates nest at
//! most [`MAX_NESTING`] levels deep, a liquid range has at most [`MAX_RANGE_ELEMENTS`] elements,
//! and a body at most [`MAX_BODY_BYTES`] bytes.
//!
//! Templates within a common subset (every Go-syntax template, and liquid ones such as the shipped
//! templates) render through a compiled program that reads the event in place; the liquid crate
//! renders the rest. [`lint`] renders a template for each event type it is attached to, for the
//! gateway's start-up check.
//!
//! ```
//! use hookshot_event::{Event, EventType};
//! use hookshot_template::Template;
//!
//! let template = Template::parse(
//!     "alert.json",
//!     r#"{"text": "{{ Type }} on {{ Meta.Path }} from {{ Meta.Origin }}"}"#,
//! )?;
//! let event = Event::sample(&EventType::AuthFailure);
//! assert_eq!(
//!     template.render(&event)?,
//!     r#"{"text": "AuthFailure on /orders/api/users from 203.0.113.7"}"#
//! );
//! assert_eq!(template.content_type(), Some("application/json"));
//!
//! // Tyk's Go syntax renders the same body.
//! let go = Template::parse(
//!     "alert.json",
//!     r#"{"text": "{{.Type}} on {{.Meta.Path}} from {{.Meta.Origin}}"}"#,
//! )?;
//! assert_eq!(go.render(&event)?, template.render(&event)?);
//! # Ok::<(), hookshot_template::Error>(())
//! ```
//!
//! Architecture invariant: this crate knows the event model and liquid, and nothing of HTTP, stores,
//! async runtimes or the gateway.

mod data;
mod error;
mod escape;
mod filters;
mod go;
mod html;
mod lint;
mod liquid;
mod program;
mod shipped;
mod template;
mod view;

pub use error::{Error, Result};
pub use escape::Escaping;
pub use go::MAX_NESTING;

/// The most elements a liquid range (`(1..Meta.Key)` in `{% for %}` or `{% tablerow %}`) may
/// have. A range of literals beyond it is refused at load; a range whose bounds come from the
/// event fails the render, naming the range, before it is built.
pub const MAX_RANGE_ELEMENTS: usize = 10_000;

/// The most bytes a template renders: beyond it the render fails, naming the template.
pub const MAX_BODY_BYTES: usize = 1 << 20;
pub use lint::{LintError, lint};
pub use shipped::{SHIPPED, shipped_source};
pub use template::{Engine, Syntax, Template};

#[cfg(feature = "mock")]
pub use hookshot_core::MockRenderer;
pub use hookshot_core::{RenderError, Renderer};
