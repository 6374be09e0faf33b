//! The compiler of a liquid template that keeps to the subset into a program.

use super::lex::{Tok, ValueTok, tokens};
use super::parse::{condition, output, value, when_values};
use super::rewrite::verbatim;
use super::scan::{LIQUID_SPACE, Seg};
use crate::escape::Escaping;
use crate::program::{Dialect, Expr, Node, Program};

/// An open block while compiling.
pub(super) enum Open {
    /// `if` / `unless`: finished arms, the current condition (`None` after `else`), its body.
    If {
        arms: Vec<(Expr, Vec<Node>)>,
        cond: Option<Expr>,
        body: Vec<Node>,
        end: &'static str,
    },
    /// `case`: the target, finished arms, the current `when` condition (`None` before the first
    /// `when` and after `else`), its body, and whether `else` was seen.
    Case {
        target: ValueTok,
        at: usize,
        arms: Vec<(Vec<Expr>, Vec<Node>)>,
        cond: Option<Vec<Expr>>,
        body: Vec<Node>,
        in_else: bool,
    },
}

/// Compiles a liquid template that keeps to the subset; `None` leaves it to the liquid crate.
pub(crate) fn compile(segs: &[Seg<'_>], escaping: Escaping) -> Option<Program> {
    let mut root: Vec<Node> = Vec::new();
    let mut stack: Vec<Open> = Vec::new();
    let mut comment_depth = 0usize;
    for (i, seg) in segs.iter().enumerate() {
        // Comments are skipped; other tags inside them are left to the liquid crate, which
        // parses them for their side effects.
        match seg {
            Seg::Tag {
                name: "comment", ..
            } => {
                comment_depth += 1;
                continue;
            }
            Seg::Tag {
                name: "endcomment", ..
            } if comment_depth > 0 => {
                comment_depth -= 1;
                continue;
            }
            Seg::Tag { .. } if comment_depth > 0 => return None,
            _ if comment_depth > 0 => continue,
            _ => {}
        }
        let node = match seg {
            Seg::Text(t) => {
                let mut t: &str = t;
                if i > 0 && trims_right(&segs[i - 1]) {
                    t = t.trim_start_matches(LIQUID_SPACE);
                }
                if segs.get(i + 1).is_some_and(trims_left) {
                    t = t.trim_end_matches(LIQUID_SPACE);
                }
                if t.is_empty() {
                    continue;
                }
                Node::Text(t.into())
            }
            Seg::Output { inner, at, .. } => Node::Emit {
                expr: output(inner, *at)?,
                verbatim: verbatim(inner, escaping),
            },
            Seg::Tag { name, args, at, .. } => {
                let args = args.trim_matches(LIQUID_SPACE);
                match *name {
                    "if" | "unless" => {
                        let cond = condition(args, *at)?;
                        let (cond, end) = if *name == "if" {
                            (cond, "endif")
                        } else {
                            (Expr::Not(Box::new(cond)), "endunless")
                        };
                        stack.push(Open::If {
                            arms: Vec::new(),
                            cond: Some(cond),
                            body: Vec::new(),
                            end,
                        });
                        continue;
                    }
                    "elsif" => {
                        let Some(Open::If {
                            arms,
                            cond,
                            body,
                            end: "endif",
                        }) = stack.last_mut()
                        else {
                            return None;
                        };
                        let prev = cond.take()?;
                        arms.push((prev, std::mem::take(body)));
                        *cond = Some(condition(args, *at)?);
                        continue;
                    }
                    "else" => {
                        if !args.is_empty() {
                            return None;
                        }
                        match stack.last_mut()? {
                            Open::If {
                                arms, cond, body, ..
                            } => {
                                let prev = cond.take()?;
                                arms.push((prev, std::mem::take(body)));
                            }
                            Open::Case {
                                arms,
                                cond,
                                body,
                                in_else,
                                ..
                            } => {
                                if *in_else {
                                    return None;
                                }
                                if let Some(prev) = cond.take() {
                                    arms.push((prev, std::mem::take(body)));
                                }
                                body.clear();
                                *in_else = true;
                            }
                        }
                        continue;
                    }
                    "case" => {
                        let mut toks = tokens(args)?.into_iter();
                        let (Some(Tok::Value(target)), None) = (toks.next(), toks.next()) else {
                            return None;
                        };
                        stack.push(Open::Case {
                            target,
                            at: *at,
                            arms: Vec::new(),
                            cond: None,
                            body: Vec::new(),
                            in_else: false,
                        });
                        continue;
                    }
                    "when" => {
                        let Some(Open::Case {
                            arms,
                            cond,
                            body,
                            in_else: false,
                            ..
                        }) = stack.last_mut()
                        else {
                            return None;
                        };
                        match cond.take() {
                            Some(prev) => arms.push((prev, std::mem::take(body))),
                            // Liquid drops what comes before the first `when`.
                            None => body.clear(),
                        }
                        *cond = Some(when_values(args, *at)?);
                        continue;
                    }
                    "endif" | "endunless" => {
                        let Some(Open::If {
                            mut arms,
                            cond,
                            body,
                            end,
                        }) = stack.pop()
                        else {
                            return None;
                        };
                        if end != *name || !args.is_empty() {
                            return None;
                        }
                        let otherwise = match cond {
                            Some(c) => {
                                arms.push((c, body));
                                Vec::new()
                            }
                            None => body,
                        };
                        Node::Branch { arms, otherwise }
                    }
                    "endcase" => {
                        let Some(Open::Case {
                            target,
                            at: case_at,
                            mut arms,
                            cond,
                            body,
                            in_else,
                        }) = stack.pop()
                        else {
                            return None;
                        };
                        if !args.is_empty() {
                            return None;
                        }
                        let otherwise = match (in_else, cond) {
                            (true, _) => body,
                            (false, Some(c)) => {
                                arms.push((c, body));
                                Vec::new()
                            }
                            (false, None) => Vec::new(),
                        };
                        Node::Switch {
                            target: value(target, case_at),
                            arms,
                            otherwise,
                        }
                    }
                    _ => return None,
                }
            }
        };
        let target = match stack.last_mut() {
            None => &mut root,
            Some(Open::If { body, .. }) => body,
            Some(Open::Case { body, .. }) => body,
        };
        target.push(node);
    }
    if !stack.is_empty() || comment_depth > 0 {
        return None;
    }
    Some(Program {
        nodes: Node::merge_text(root),
        dialect: Dialect::Liquid,
    })
}

pub(super) fn trims_left(seg: &Seg<'_>) -> bool {
    matches!(
        seg,
        Seg::Output {
            trim_left: true,
            ..
        } | Seg::Tag {
            trim_left: true,
            ..
        }
    )
}

pub(super) fn trims_right(seg: &Seg<'_>) -> bool {
    matches!(
        seg,
        Seg::Output {
            trim_right: true,
            ..
        } | Seg::Tag {
            trim_right: true,
            ..
        }
    )
}

#[cfg(test)]
mod tests {
    use super::super::scan::scan;
    use super::*;

    #[test]
    fn templates_outside_the_subset_are_left_to_liquid() {
        for src in [
            "{% for x in Meta %}{% endfor %}",
            "{% assign a = 1 %}",
            "{{ Meta.Path | upcase }}",
            "{{ Meta.Path.size }}",
            "{{ Meta[0] }}",
            "{{ a-b }}",
            "{{ nilly }}",
            "{% if Type == empty %}{% endif %}",
            "{% else if %}",
            "{% comment %}{% if x %}{% endif %}{% endcomment %}",
            "{{ x | default: y }}",
            "{{ x | json | upcase }}",
        ] {
            let segs = scan(src).unwrap();
            assert!(compile(&segs, Escaping::Json).is_none(), "{src}");
        }
    }
}
