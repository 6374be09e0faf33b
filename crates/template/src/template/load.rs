//! Loading a template: from a string, a file or the shipped set; its syntax told apart, its limits
//! checked, and compiled to a program when it keeps to the subset.

use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::sync::OnceLock;
use std::sync::atomic::AtomicUsize;

use super::{Syntax, Template};
use crate::error::{Error, Result, line_col};
use crate::escape::Escaping;
use crate::filters::{HookshotFilter, RangeStopFilter};
use crate::shipped::{SHIPPED, shipped_source};
use crate::{go, liquid};

pub(super) fn parser() -> &'static ::liquid::Parser {
    static PARSER: OnceLock<::liquid::Parser> = OnceLock::new();
    PARSER.get_or_init(|| {
        let mut builder = ::liquid::ParserBuilder::with_stdlib();
        for f in HookshotFilter::all() {
            builder = builder.filter(f);
        }
        builder = builder.filter(RangeStopFilter);
        builder
            .build()
            .expect("the standard library and Hookshot's filters register")
    })
}

/// The position and a one-line message of a liquid parse error: liquid reports pest's
/// ` --> 3:7 ... = expected Identifier` for syntax errors, and `Unknown filter` with context lines
/// (`requested filter=nope`) for unknown names, whose position is looked up in the source.
pub(super) fn liquid_error(source: &str, message: &str) -> (usize, usize, String) {
    let message = message.strip_prefix("liquid:").unwrap_or(message).trim();
    let mut position = None;
    if let Some(i) = message.find("--> ") {
        let rest = &message[i + 4..];
        let end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == ':'))
            .unwrap_or(rest.len());
        if let Some((l, c)) = rest[..end].split_once(':') {
            position = l.parse().ok().zip(c.parse().ok());
        }
    }
    let mut parts: Vec<String> = Vec::new();
    let mut requested = None;
    for line in message.lines() {
        let line = line.trim();
        if let Some(m) = line.strip_prefix("= ") {
            parts.push(m.trim_end_matches('.').to_owned());
        } else if let Some((key, value)) = line.split_once('=') {
            if key.starts_with("requested") {
                parts.push(format!("{key} `{value}`"));
                requested = Some((key.to_owned(), value.to_owned()));
            }
        } else if !line.is_empty()
            && !line.starts_with("-->")
            && !line.starts_with('|')
            && !line.chars().next().is_some_and(|c| c.is_ascii_digit())
            && line != "with:"
        {
            parts.push(line.trim_end_matches('.').to_owned());
        }
    }
    let position = position.or_else(|| {
        // An unknown filter or tag: where its name first appears after `|` or `{%`.
        let (key, name) = requested?;
        let offset = if key.contains("filter") {
            source
                .match_indices(name.as_str())
                .find(|(i, _)| source[..*i].trim_end().ends_with('|'))
                .map(|(i, _)| i)
        } else {
            source.find(name.as_str())
        }?;
        Some(line_col(source, offset))
    });
    let (line, column) = position.unwrap_or((1, 1));
    (line, column, parts.join(": "))
}

/// The text of a panic's payload.
pub(super) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic".to_owned())
}

/// Parses with the liquid crate, turning a panic in it (liquid-core has some on malformed input)
/// into a syntax error rather than taking the caller down.
pub(super) fn parse_liquid(
    source: &str,
    name: &str,
) -> Result<std::result::Result<::liquid::Template, ::liquid::Error>> {
    std::panic::catch_unwind(AssertUnwindSafe(|| parser().parse(source))).map_err(|p| {
        Error::Syntax {
            template: name.to_owned(),
            line: 1,
            column: 1,
            message: format!(
                "the liquid parser failed on this template: {}",
                panic_message(&p)
            ),
        }
    })
}

impl Template {
    /// Parses `source`; `name` (a path or a file name) gives the escaping by its extension and
    /// names the template in errors.
    pub fn parse(name: impl Into<String>, source: &str) -> Result<Template> {
        let name = name.into();
        let escaping = Escaping::for_path(&name);
        Template::parse_with(name, source, escaping)
    }

    /// Parses `source` with the given escaping.
    ///
    /// A Go-syntax template is rendered as Tyk's `html/template` renders it unless it is JSON:
    /// [`Escaping::Raw`] becomes [`Escaping::Markup`], and with [`Escaping::Markup`] a `<` of its
    /// text that opens no tag is written `&lt;`, while an action inside an HTML tag, an HTML
    /// comment and `<script>`, `<style>`, `<textarea>` or `<title>` are refused with their line
    /// (values there would be escaped by rules Hookshot does not reproduce).
    ///
    /// Templates nested deeper than [`MAX_NESTING`](crate::MAX_NESTING) levels are refused with
    /// the line of the first level too deep.
    pub fn parse_with(
        name: impl Into<String>,
        source: &str,
        escaping: Escaping,
    ) -> Result<Template> {
        let name = name.into();
        let capacity = AtomicUsize::new(256);
        if let Some(go_at) = go::detect(source) {
            if let Some(tag_at) = liquid::first_tag(source) {
                let (gl, gc) = line_col(source, go_at);
                let (line, column) = line_col(source, tag_at);
                return Err(Error::Syntax {
                    template: name,
                    line,
                    column,
                    message: format!(
                        "this liquid tag is in a template written in Go's syntax (its action at line {gl}, column {gc}); write the template in one syntax or the other"
                    ),
                });
            }
            // Tyk renders every template with html/template: a Go-syntax template is never raw.
            let escaping = match escaping {
                Escaping::Raw => Escaping::Markup,
                e => e,
            };
            let program =
                go::compile(source, escaping == Escaping::Markup).map_err(|e| match e {
                    go::GoError::Syntax { at, message } => {
                        let (line, column) = line_col(source, at);
                        Error::Syntax {
                            template: name.clone(),
                            line,
                            column,
                            message,
                        }
                    }
                    go::GoError::Unsupported {
                        at,
                        construct,
                        hint,
                    } => {
                        let (line, column) = line_col(source, at);
                        Error::Unsupported {
                            template: name.clone(),
                            line,
                            column,
                            construct,
                            hint,
                        }
                    }
                })?;
            return Ok(Template {
                name,
                escaping,
                syntax: Syntax::Go,
                is_default: false,
                program: Some(program),
                liquid: None,
                capacity,
                source: source.into(),
            });
        }

        let syntax_error = |e: ::liquid::Error| {
            let (line, column, message) = liquid_error(source, &e.to_string());
            Error::Syntax {
                template: name.clone(),
                line,
                column,
                message,
            }
        };
        // The liquid crate recurses once per open block: a template nested too deep is refused
        // before it parses it.
        if let Some(at) = liquid::too_deep(source) {
            let (line, column) = line_col(source, at);
            return Err(Error::Unsupported {
                template: name,
                line,
                column,
                construct: format!("nesting deeper than {} levels", crate::MAX_NESTING),
                hint: format!(
                    "a template nests at most {} levels deep (open blocks, and in a tag or output its filters and `and` / `or` operators); flatten it, for example with `elsif`",
                    crate::MAX_NESTING
                ),
            });
        }
        // liquid-core panics on a comment left open around another open block: report it first.
        if let Some(at) = liquid::scan(source)
            .as_deref()
            .and_then(liquid::unclosed_comment)
        {
            let (line, column) = line_col(source, at);
            return Err(Error::Syntax {
                template: name,
                line,
                column,
                message: "{% comment %} is never closed with {% endcomment %}".into(),
            });
        }
        // The template as written, for errors at the positions the user sees.
        parse_liquid(source, &name)?.map_err(syntax_error)?;
        let Some(segs) = liquid::scan(source) else {
            return Err(Error::Syntax {
                template: name,
                line: 1,
                column: 1,
                message: "unbalanced `{{` / `{%` delimiters".into(),
            });
        };
        if escaping != Escaping::Raw {
            for seg in &segs {
                if let liquid::Seg::Tag {
                    name: "capture",
                    at,
                    ..
                } = seg
                {
                    let (line, column) = line_col(source, *at);
                    return Err(Error::Unsupported {
                        template: name,
                        line,
                        column,
                        construct: "{% capture %}".into(),
                        hint: "in a JSON or markup template every output is escaped, so captured text would be escaped twice; use {% assign %} instead".into(),
                    });
                }
            }
        }
        for seg in &segs {
            if let liquid::Seg::Tag {
                name: tag,
                args,
                at,
                ..
            } = seg
                && let Some(range) = liquid::range_of(tag, args)
                && range
                    .literal_len()
                    .is_some_and(|n| n > crate::MAX_RANGE_ELEMENTS as i128)
            {
                let (line, column) = line_col(source, *at);
                return Err(Error::Unsupported {
                    template: name.clone(),
                    line,
                    column,
                    construct: format!("the range ({}..{})", range.start, range.stop),
                    hint: format!("a range has at most {} elements", crate::MAX_RANGE_ELEMENTS),
                });
            }
        }
        let escaped = liquid::with_escaping(source, &segs, escaping);
        let template = parse_liquid(&escaped, &name)?.map_err(syntax_error)?;
        Ok(Template {
            program: liquid::compile(&segs, escaping),
            name,
            escaping,
            syntax: Syntax::Liquid,
            is_default: false,
            liquid: Some(template),
            capacity,
            source: source.into(),
        })
    }

    /// Reads and parses the template at `path`.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Template> {
        let path = path.as_ref();
        let name = path.display().to_string();
        let source = std::fs::read_to_string(path).map_err(|source| Error::Read {
            path: name.clone(),
            source,
        })?;
        Template::parse(name, &source)
    }

    /// The shipped template `name` (see [`SHIPPED`]; a leading `templates/` is accepted).
    /// `default_webhook.json` is the default template.
    pub fn shipped(name: &str) -> Result<Template> {
        let source = shipped_source(name).ok_or_else(|| Error::NotShipped {
            name: name.to_owned(),
            available: SHIPPED.join(", "),
        })?;
        let file = name.strip_prefix("templates/").unwrap_or(name);
        let mut template = Template::parse(file, source)?;
        template.is_default = file == "default_webhook.json";
        Ok(template)
    }

    /// The default template (the shipped `default_webhook.json`), used when a handler names none.
    pub fn default_webhook() -> Template {
        Template::shipped("default_webhook.json").expect("the shipped default template parses")
    }

    /// The template at the file path `spec`, or, when there is no such file, the shipped template
    /// of that name (`slack.json`, `templates/default_webhook.json`).
    pub fn load(spec: &str) -> Result<Template> {
        let path = Path::new(spec);
        if !path.exists() && shipped_source(spec).is_some() {
            return Template::shipped(spec);
        }
        Template::from_file(path)
    }

    /// The template for bodies its handler declares JSON (a `Content-Type` of `application/json`
    /// or `...+json`, which the caller reads from the handler's headers): a liquid template is
    /// parsed again with [`Escaping::Json`], so every value it substitutes stays inside its JSON
    /// string; a Go-syntax template keeps the escaping Tyk gives it, as do JSON templates.
    pub fn for_json_body(self) -> Result<Template> {
        if self.syntax != Syntax::Liquid || self.escaping == Escaping::Json {
            return Ok(self);
        }
        let mut template = Template::parse_with(self.name, &self.source, Escaping::Json)?;
        template.is_default = self.is_default;
        Ok(template)
    }
}
