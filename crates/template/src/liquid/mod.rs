//! Liquid templates: the source scanner, the escaping Hookshot appends to every output, and the
//! compiler that turns templates keeping to a common subset into a
//! [`Program`](crate::program::Program).
//!
//! Every liquid template is parsed by the liquid crate (which reports syntax errors and renders
//! anything outside the subset). The subset compiled here: text; outputs of a literal or a variable
//! path (`Meta.HostInfo.MetaData.host_name`, `Meta["Path"]`) through the filters `json`,
//! `as_rfc3339`, `as_rfc3339_from_string` and `default: <literal>`; `if` / `elsif` / `else`,
//! `unless` / `else`, `case` / `when` / `else` with `==`, `!=`, `<>`, `<`, `>`, `<=`, `>=`,
//! `contains`, `and`, `or`; whitespace control. The compiled program follows liquid's semantics
//! and defers to the liquid crate when a value falls outside them (an object printed, say); tests
//! render every shipped template both ways and compare.
//!
//! By stage: the scanner into text, outputs and tags (`scan.rs`); the limits checked before the
//! liquid crate sees a template (`limits.rs`); the source the liquid crate renders, with Hookshot's
//! escaping (`rewrite.rs`); and for the subset, the lexer of an output's or tag's expression
//! (`lex.rs`), its parser (`parse.rs`) and the compiler of the whole template (`compile.rs`).

mod compile;
mod lex;
mod limits;
mod parse;
mod rewrite;
mod scan;

pub(crate) use compile::compile;
pub(crate) use limits::{range_of, too_deep};
pub(crate) use rewrite::with_escaping;
pub(crate) use scan::{Seg, first_tag, scan, unclosed_comment};
