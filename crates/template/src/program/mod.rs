//! A compiled template: text, substitutions and branches, evaluated directly against an event.
//!
//! Go-syntax templates always compile to a [`Program`] (with Go's semantics); liquid templates do
//! when they keep to the subset [`crate::compile`] accepts (with liquid's semantics), and the
//! liquid crate renders the others. A liquid program [`Stop::Defer`]s to the liquid crate whenever a
//! value falls outside what it knows how to treat exactly as liquid does (an object printed, say).
//!
//! By stage: the program itself (`ir.rs`), its evaluation (`eval.rs`), and the values' semantics
//! where the two dialects differ: Go's (`go_values.rs`) and liquid's (`liquid_values.rs`).

mod eval;
mod go_values;
mod ir;
mod liquid_values;

pub(crate) use go_values::time_filter;
pub(crate) use ir::{CmpOp, Dialect, Expr, Filter, Func, Lit, Node, Program, Stop};
pub(crate) use liquid_values::json_string;
