//! Errors of loading and rendering templates.

/// A template could not be loaded or rendered.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The template file could not be read.
    #[error("{path}: cannot read the template: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The template is not valid liquid or Go template syntax.
    #[error("{template}:{line}:{column}: {message}")]
    Syntax {
        /// The template's name or path.
        template: String,
        /// The line, from 1.
        line: usize,
        /// The column in characters, from 1.
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// A Go-syntax template uses a construct outside the subset Hookshot translates
    /// (or a liquid construct Hookshot refuses for the template's escaping).
    #[error("{template}:{line}:{column}: {construct} is not supported: {hint}")]
    Unsupported {
        /// The template's name or path.
        template: String,
        /// The line, from 1.
        line: usize,
        /// The column in characters, from 1.
        column: usize,
        /// The construct, as written (`{{range}}`, `the variable $x`, `the function printf`).
        construct: String,
        /// What is supported, and what to write instead.
        hint: String,
    },
    /// No shipped template has this name.
    #[error("{name:?} is not a shipped template; the shipped templates are {available}")]
    NotShipped {
        /// The name asked for.
        name: String,
        /// The names there are, comma-separated.
        available: String,
    },
    /// Rendering failed.
    #[error("rendering {template}: {message}")]
    Render {
        /// The template's name or path.
        template: String,
        /// What went wrong (with the line and column in the template, when known).
        message: String,
    },
}

/// A result of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The 1-based line and character column of byte `offset` in `src`.
pub(crate) fn line_col(src: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(src.len());
    let before = &src[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions() {
        let src = "ab\ncdé{{x";
        assert_eq!(line_col(src, 0), (1, 1));
        assert_eq!(line_col(src, 2), (1, 3));
        assert_eq!(line_col(src, 3), (2, 1));
        assert_eq!(line_col(src, 7), (2, 4));
        assert_eq!(line_col(src, 100), (2, 7));
    }
}
