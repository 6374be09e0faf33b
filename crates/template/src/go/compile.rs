//! The compiler: a template's text and actions into a [`Program`], its `if` blocks matched.

use super::lex::{Item, Tok, lex};
use super::parse::{Cursor, SUBSET};
use super::{GoError, MAX_NESTING, syntax, unsupported};
use crate::html;
use crate::program::{Dialect, Expr, Node, Program};

/// An open `{{if}}`.
pub(super) struct Open {
    at: usize,
    arms: Vec<(Expr, Vec<Node>)>,
    cond: Option<Expr>,
    body: Vec<Node>,
}

/// The error for nesting deeper than [`MAX_NESTING`] at `at`.
pub(crate) fn too_deep(at: usize) -> GoError {
    unsupported(
        at,
        format!("nesting deeper than {MAX_NESTING} levels"),
        format!(
            "a template nests at most {MAX_NESTING} levels deep (open blocks, and in an action its parentheses and pipes); flatten it, for example with `else if`"
        ),
    )
}

/// Compiles a Go-syntax template. With `html`, the template's text and actions are checked and
/// rewritten as Go's `html/template` treats them in HTML text (see [`html`]).
pub(crate) fn compile(src: &str, html: bool) -> Result<Program, GoError> {
    let items = lex(src)?;
    let mut state = html::State::Text;
    let mut root: Vec<Node> = Vec::new();
    let mut stack: Vec<Open> = Vec::new();
    fn body<'a>(root: &'a mut Vec<Node>, stack: &'a mut [Open]) -> &'a mut Vec<Node> {
        match stack.last_mut() {
            Some(open) => &mut open.body,
            None => root,
        }
    }
    for item in items {
        let (at, toks) = match item {
            Item::Text(t, text_at) => {
                let t = if html {
                    html::text(&mut state, &t, text_at)?
                } else {
                    t
                };
                body(&mut root, &mut stack).push(Node::Text(t.into()));
                continue;
            }
            Item::Action {
                at,
                toks,
                depth: (depth, deepest_at),
            } => {
                if html && state != html::State::Text {
                    return Err(html::action_outside_text(state, at));
                }
                if stack.len() + depth > MAX_NESTING {
                    return Err(too_deep(deepest_at));
                }
                (at, toks)
            }
        };
        let mut c = Cursor {
            toks: &toks,
            i: 0,
            end_at: at,
        };
        let keyword = match c.peek() {
            Some((Tok::Ident(k), kat)) => Some((k.as_str(), *kat)),
            _ => None,
        };
        if !matches!(
            keyword,
            Some((
                "range" | "with" | "define" | "template" | "block" | "break" | "continue",
                _
            ))
        ) {
            c.check()?;
        }
        match keyword {
            Some(("if", _)) => {
                if stack.len() + 1 > MAX_NESTING {
                    return Err(too_deep(at));
                }
                c.i += 1;
                let cond = c.pipeline()?;
                c.expect_end()?;
                stack.push(Open {
                    at,
                    arms: Vec::new(),
                    cond: Some(cond),
                    body: Vec::new(),
                });
            }
            Some(("else", kat)) => {
                c.i += 1;
                let Some(open) = stack.last_mut() else {
                    return Err(syntax(kat, "unexpected {{else}} outside {{if}}"));
                };
                let Some(prev) = open.cond.take() else {
                    return Err(syntax(
                        kat,
                        "expected {{end}}: this {{if}} already had its {{else}}",
                    ));
                };
                open.arms.push((prev, std::mem::take(&mut open.body)));
                match c.peek() {
                    None => {}
                    Some((Tok::Ident(k), _)) if k == "if" => {
                        c.i += 1;
                        open.cond = Some(c.pipeline()?);
                        c.expect_end()?;
                    }
                    Some((Tok::Ident(k), kat)) if k == "with" || k == "range" => {
                        return Err(unsupported(*kat, format!("{{{{else {k}}}}}"), SUBSET));
                    }
                    Some((_, tat)) => {
                        return Err(syntax(*tat, "unexpected tokens after {{else}}"));
                    }
                }
            }
            Some(("end", kat)) => {
                c.i += 1;
                c.expect_end()?;
                let Some(mut open) = stack.pop() else {
                    return Err(syntax(kat, "unexpected {{end}} without {{if}}"));
                };
                let otherwise = match open.cond.take() {
                    Some(cond) => {
                        open.arms.push((cond, std::mem::take(&mut open.body)));
                        Vec::new()
                    }
                    None => std::mem::take(&mut open.body),
                };
                body(&mut root, &mut stack).push(Node::Branch {
                    arms: open.arms,
                    otherwise,
                });
            }
            Some((
                k @ ("range" | "with" | "define" | "template" | "block" | "break" | "continue"),
                kat,
            )) => {
                let hint = match k {
                    "range" => format!("{SUBSET}; liquid's {{% for %}} can loop"),
                    "with" => format!("{SUBSET}; use {{{{if}}}} and the full field path"),
                    "break" | "continue" => format!("{SUBSET}; they only make sense inside range"),
                    _ => format!("{SUBSET}; a template is a single file"),
                };
                return Err(unsupported(kat, format!("{{{{{k}}}}}"), hint));
            }
            _ => {
                let expr = c.pipeline()?;
                c.expect_end()?;
                body(&mut root, &mut stack).push(Node::Emit {
                    expr,
                    verbatim: false,
                });
            }
        }
    }
    if let Some(open) = stack.last() {
        return Err(syntax(open.at, "unclosed {{if}}: missing {{end}}"));
    }
    if html && state != html::State::Text {
        return Err(html::ends_outside_text(state, src.len()));
    }
    Ok(Program {
        nodes: Node::merge_text(root),
        dialect: Dialect::Go,
    })
}
