//! Tyk's Go-syntax templates, compiled to a [`Program`](crate::program::Program) with Go's
//! semantics.
//!
//! The subset is what Tyk ships and documents: field paths (`.Meta.Path`, map keys such as
//! `.Meta.HostInfo.MetaData.host_name`), `if` / `else if` / `else` / `end`, the functions `eq`,
//! `ne`, `lt`, `le`, `gt`, `ge`, `and`, `or`, `not`, `as_rfc3339` and `as_rfc3339_from_string`,
//! parenthesised sub-expressions, pipes, string / integer / decimal / boolean literals, comments,
//! and the trim markers `{{- ` and ` -}}` (which remove all adjacent ASCII whitespace, as in Go).
//! Everything else is refused with its position, never rendered differently from Go.
//!
//! By stage: telling the syntax apart and splitting a template into text and actions (`lex.rs`),
//! parsing an action's expression (`parse.rs`), and compiling the actions into a program
//! (`compile.rs`).

mod compile;
mod lex;
mod parse;

pub(crate) use compile::compile;
pub(crate) use lex::detect;

/// How deep a template may nest: open blocks (`{{if}}` in Go syntax, block tags in liquid) plus,
/// in a Go action, parentheses and pipes. Deeper templates are refused at load, so that neither
/// parsing nor rendering recurses without bound.
pub const MAX_NESTING: usize = 100;

/// Why a Go-syntax template was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum GoError {
    /// Not a valid Go template.
    Syntax { at: usize, message: String },
    /// Valid Go, outside the subset Hookshot translates.
    Unsupported {
        at: usize,
        construct: String,
        hint: String,
    },
}

pub(crate) fn syntax(at: usize, message: impl Into<String>) -> GoError {
    GoError::Syntax {
        at,
        message: message.into(),
    }
}

pub(crate) fn unsupported(
    at: usize,
    construct: impl Into<String>,
    hint: impl Into<String>,
) -> GoError {
    GoError::Unsupported {
        at,
        construct: construct.into(),
        hint: hint.into(),
    }
}
