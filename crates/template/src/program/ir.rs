//! The program: its nodes, expressions and literals, and how its evaluation stops.

use crate::data::Key;

/// Whose semantics a program follows where Go and liquid differ (truth, comparison, printing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Go,
    Liquid,
}

/// A compiled template.
#[derive(Debug)]
pub(crate) struct Program {
    pub(crate) nodes: Vec<Node>,
    pub(crate) dialect: Dialect,
}

/// One piece of a template.
#[derive(Debug)]
pub(crate) enum Node {
    /// Text written as it is.
    Text(Box<str>),
    /// A value written with the template's escaping, or as it is when `verbatim`
    /// (the output of liquid's `json` filter in a JSON template).
    Emit { expr: Expr, verbatim: bool },
    /// The body of the first arm whose condition holds, else `otherwise`.
    Branch {
        arms: Vec<(Expr, Vec<Node>)>,
        otherwise: Vec<Node>,
    },
    /// Liquid's `case`: `target` evaluated once, then the body of the first arm with a value equal
    /// to it (liquid's `==`), else `otherwise`.
    Switch {
        target: Expr,
        arms: Vec<(Vec<Expr>, Vec<Node>)>,
        otherwise: Vec<Node>,
    },
}

impl Node {
    /// Joins adjacent text nodes, in this list and in every nested one.
    pub(crate) fn merge_text(nodes: Vec<Node>) -> Vec<Node> {
        let mut out: Vec<Node> = Vec::with_capacity(nodes.len());
        for node in nodes {
            let node = match node {
                Node::Branch { arms, otherwise } => Node::Branch {
                    arms: arms
                        .into_iter()
                        .map(|(c, b)| (c, Node::merge_text(b)))
                        .collect(),
                    otherwise: Node::merge_text(otherwise),
                },
                Node::Switch {
                    target,
                    arms,
                    otherwise,
                } => Node::Switch {
                    target,
                    arms: arms
                        .into_iter()
                        .map(|(v, b)| (v, Node::merge_text(b)))
                        .collect(),
                    otherwise: Node::merge_text(otherwise),
                },
                other => other,
            };
            match (out.last_mut(), node) {
                (Some(Node::Text(prev)), Node::Text(next)) => {
                    *prev = format!("{prev}{next}").into();
                }
                (_, node) => out.push(node),
            }
        }
        out
    }
}

/// An expression; `at` is a byte offset in the source, for error messages.
#[derive(Debug)]
pub(crate) enum Expr {
    /// A field path, as written (`.Meta.Path`, `Meta.Path`).
    Field {
        path: Box<[Key]>,
        text: Box<str>,
        at: usize,
    },
    Lit(Lit),
    /// A Go function call.
    Call {
        func: Func,
        args: Vec<Expr>,
        at: usize,
    },
    /// A liquid comparison.
    Cmp {
        op: CmpOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    /// Liquid `and`.
    And(Box<Expr>, Box<Expr>),
    /// Liquid `or`.
    Or(Box<Expr>, Box<Expr>),
    /// The negation of a liquid condition (`unless`).
    Not(Box<Expr>),
    /// A liquid filter applied to a value.
    Filter {
        input: Box<Expr>,
        filter: Filter,
    },
}

/// A literal value.
#[derive(Debug, Clone)]
pub(crate) enum Lit {
    Str(Box<str>),
    Int(i64),
    Float(f64),
    Bool(bool),
    Nil,
}

/// The Go template functions Hookshot translates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Func {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
    Not,
    AsRfc3339,
    AsRfc3339FromString,
}

impl Func {
    /// The function of a Go identifier.
    pub(crate) fn from_name(name: &str) -> Option<Func> {
        Some(match name {
            "eq" => Func::Eq,
            "ne" => Func::Ne,
            "lt" => Func::Lt,
            "le" => Func::Le,
            "gt" => Func::Gt,
            "ge" => Func::Ge,
            "and" => Func::And,
            "or" => Func::Or,
            "not" => Func::Not,
            "as_rfc3339" => Func::AsRfc3339,
            "as_rfc3339_from_string" => Func::AsRfc3339FromString,
            _ => return None,
        })
    }

    /// The function's name.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Func::Eq => "eq",
            Func::Ne => "ne",
            Func::Lt => "lt",
            Func::Le => "le",
            Func::Gt => "gt",
            Func::Ge => "ge",
            Func::And => "and",
            Func::Or => "or",
            Func::Not => "not",
            Func::AsRfc3339 => "as_rfc3339",
            Func::AsRfc3339FromString => "as_rfc3339_from_string",
        }
    }

    /// The number of arguments it takes: at least `.0`, at most `.1`.
    pub(crate) fn arity(self) -> (usize, Option<usize>) {
        match self {
            Func::Eq | Func::Ne => (2, None),
            Func::Lt | Func::Le | Func::Gt | Func::Ge => (2, Some(2)),
            Func::And | Func::Or => (1, None),
            Func::Not | Func::AsRfc3339 | Func::AsRfc3339FromString => (1, Some(1)),
        }
    }
}

/// A liquid comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CmpOp {
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
    Contains,
}

/// The liquid filters a program evaluates itself.
#[derive(Debug, Clone)]
pub(crate) enum Filter {
    AsRfc3339,
    AsRfc3339FromString,
    Json,
    Default(Lit),
}

/// Why a program stopped.
#[derive(Debug)]
pub(crate) enum Stop {
    /// Liquid only: render this event through the liquid crate instead.
    Defer,
    /// The template cannot be rendered for this event.
    Error { at: usize, message: String },
    /// The body grew beyond [`crate::MAX_BODY_BYTES`].
    TooLarge,
}

pub(super) fn error(at: usize, message: impl Into<String>) -> Stop {
    Stop::Error {
        at,
        message: message.into(),
    }
}

pub(super) type Eval<T> = Result<T, Stop>;
