//! A template: loaded and parsed once, rendered many times.
//!
//! By stage: loading and parsing, with the choice of syntax and engine (`load.rs`), and rendering
//! (`render.rs`).

mod load;
mod render;

use std::sync::atomic::AtomicUsize;

use hookshot_event::Event;

use crate::escape::Escaping;
use crate::program::Program;
use crate::{RenderError, Renderer};

/// The syntax a template is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Syntax {
    /// Liquid, Hookshot's own syntax.
    Liquid,
    /// Tyk's Go template syntax, translated.
    Go,
}

/// What renders a template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Engine {
    /// Hookshot's compiled program: every Go-syntax template, and liquid templates within the
    /// subset it compiles (which defer to the liquid crate for values outside it).
    Compiled,
    /// The liquid crate.
    Liquid,
}

/// A webhook body template, parsed once and rendered for many events.
///
/// The data is the event's serde form (`Type`, `Meta.*`, `TimeStamp`, `EventType`,
/// `EventMetaData.*`, `API.ID` / `API.Name` / `API.OrgID` when the event belongs to an API);
/// a field the event lacks renders as nothing.
pub struct Template {
    name: String,
    escaping: Escaping,
    syntax: Syntax,
    is_default: bool,
    program: Option<Program>,
    liquid: Option<::liquid::Template>,
    /// The largest body rendered so far: the capacity a new body starts with.
    capacity: AtomicUsize,
    /// The source, for the positions of rendering errors.
    source: Box<str>,
}

impl Template {
    /// The template's name: its path, or the shipped template's file name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// How values are escaped.
    pub fn escaping(&self) -> Escaping {
        self.escaping
    }

    /// The syntax it is written in.
    pub fn syntax(&self) -> Syntax {
        self.syntax
    }

    /// Whether this is the default template.
    pub fn is_default(&self) -> bool {
        self.is_default
    }

    /// What renders it.
    pub fn engine(&self) -> Engine {
        if self.program.is_some() {
            Engine::Compiled
        } else {
            Engine::Liquid
        }
    }

    /// The `Content-Type` Tyk sends with the body: `application/json` for the default template and
    /// JSON templates, none otherwise (a handler's headers may set one).
    pub fn content_type(&self) -> Option<&'static str> {
        (self.is_default || self.escaping == Escaping::Json).then_some("application/json")
    }
}

impl std::fmt::Debug for Template {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Template")
            .field("name", &self.name)
            .field("escaping", &self.escaping)
            .field("syntax", &self.syntax)
            .field("is_default", &self.is_default)
            .field("engine", &self.engine())
            .finish_non_exhaustive()
    }
}

impl Renderer for Template {
    fn render(&self, event: &Event) -> std::result::Result<String, RenderError> {
        Template::render(self, event).map_err(|e| RenderError::new(e.to_string()))
    }

    fn content_type(&self) -> Option<&'static str> {
        Template::content_type(self)
    }
}
