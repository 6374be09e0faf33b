//! Rendering a template: its compiled program, or the liquid crate, with the body's size bounded.

use std::panic::AssertUnwindSafe;
use std::sync::atomic::Ordering;

use hookshot_event::Event;

use super::Template;
use super::load::panic_message;
use crate::error::{Error, Result, line_col};
use crate::program::Stop;
use crate::view::RecordView;

impl Template {
    /// The body for `event`.
    pub fn render(&self, event: &Event) -> Result<String> {
        let mut out = String::with_capacity(self.capacity.load(Ordering::Relaxed));
        self.render_to(event, &mut out)?;
        if out.len() > self.capacity.load(Ordering::Relaxed) {
            self.capacity.store(out.len(), Ordering::Relaxed);
        }
        Ok(out)
    }

    /// Appends the body for `event` to `out` (left as it was on error).
    pub fn render_to(&self, event: &Event, out: &mut String) -> Result<()> {
        let start = out.len();
        if let Some(program) = &self.program {
            match program.render(event, self.escaping, out) {
                Ok(()) => return Ok(()),
                Err(Stop::Error { at, message }) => {
                    out.truncate(start);
                    let (line, column) = self.position(at);
                    return Err(
                        self.render_error(format!("line {line}, column {column}: {message}"))
                    );
                }
                Err(Stop::TooLarge) => {
                    out.truncate(start);
                    return Err(self.too_large());
                }
                Err(Stop::Defer) => out.truncate(start),
            }
        }
        self.render_liquid(event, out)
    }

    /// Renders through the liquid crate even where the compiled program would; `None` for Go-syntax
    /// templates. Tests and benchmarks compare the two.
    pub fn render_with_liquid(&self, event: &Event) -> Option<Result<String>> {
        self.liquid.as_ref()?;
        let mut out = String::new();
        Some(self.render_liquid(event, &mut out).map(|()| out))
    }

    fn render_liquid(&self, event: &Event, out: &mut String) -> Result<()> {
        let Some(template) = &self.liquid else {
            return Err(self.render_error("no liquid template to render".into()));
        };
        let mut body = CappedBody {
            buf: Vec::with_capacity(self.capacity.load(Ordering::Relaxed)),
            exceeded: false,
        };
        let rendered = std::panic::catch_unwind(AssertUnwindSafe(|| {
            template.render_to(&mut body, &RecordView::new(event))
        }))
        .map_err(|p| {
            self.render_error(format!("the liquid crate failed: {}", panic_message(&p)))
        })?;
        if body.exceeded {
            return Err(self.too_large());
        }
        rendered.map_err(|e| self.render_error(e.to_string().trim().replace('\n', " ")))?;
        let text = String::from_utf8(body.buf)
            .map_err(|_| self.render_error("the body is not UTF-8".into()))?;
        out.push_str(&text);
        Ok(())
    }

    fn too_large(&self) -> Error {
        self.render_error(format!(
            "the body is larger than {} bytes, the most a template may render",
            crate::MAX_BODY_BYTES
        ))
    }

    fn render_error(&self, message: String) -> Error {
        Error::Render {
            template: self.name.clone(),
            message,
        }
    }

    fn position(&self, at: usize) -> (usize, usize) {
        line_col(&self.source, at)
    }
}

/// The body the liquid crate writes, refused beyond [`crate::MAX_BODY_BYTES`].
struct CappedBody {
    buf: Vec<u8>,
    exceeded: bool,
}

impl std::io::Write for CappedBody {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        if self.buf.len() + bytes.len() > crate::MAX_BODY_BYTES {
            self.exceeded = true;
            return Err(std::io::Error::other("the body is too large"));
        }
        self.buf.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
