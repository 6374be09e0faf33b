//! How substituted values are escaped: the kind of a template, and the writers for each kind.
//!
//! Only values are escaped; the template's own text is written as it is.

use std::path::Path;

/// How values substituted into a template are escaped, chosen from the template's file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Escaping {
    /// JSON string content: `"`, `\`, control characters and U+2028/U+2029 are escaped, so a body
    /// stays valid JSON and a receiver reads back the exact value. For names ending in `.json`,
    /// and for the default template.
    Json,
    /// HTML/XML entities (`&#34;`, `&#39;`, `&amp;`, `&lt;`, `&gt;`, `&#43;`, as Go's
    /// `html/template` writes them). For names ending in `.xml`, `.html` or `.htm`, and for every
    /// Go-syntax template that is not JSON: Tyk renders those with `html/template`, and Hookshot
    /// renders the same bytes (see [`Template::parse_with`](crate::Template::parse_with)).
    Markup,
    /// No escaping. For liquid templates of every other name; a Go-syntax template is never raw.
    Raw,
}

impl Escaping {
    /// The escaping for a template at `path` (case-insensitive extension); a Go-syntax template
    /// given [`Escaping::Raw`] gets [`Escaping::Markup`].
    pub fn for_path(path: impl AsRef<Path>) -> Escaping {
        let ext = path
            .as_ref()
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match ext.as_deref() {
            Some("json") => Escaping::Json,
            Some("xml" | "html" | "htm") => Escaping::Markup,
            _ => Escaping::Raw,
        }
    }

    /// Appends `value` to `out`, escaped for this kind.
    pub fn write(self, out: &mut String, value: &str) {
        match self {
            Escaping::Json => write_json_content(out, value),
            Escaping::Markup => write_markup(out, value),
            Escaping::Raw => out.push_str(value),
        }
    }

    /// `value` escaped for this kind.
    pub fn escape(self, value: &str) -> String {
        let mut out = String::with_capacity(value.len() + 8);
        self.write(&mut out, value);
        out
    }
}

/// Appends `value` as the content of a JSON string (without the quotes).
///
/// Non-ASCII characters are kept as UTF-8, except U+2028 and U+2029, which are valid in JSON but
/// end a line in JavaScript and are escaped.
pub(crate) fn write_json_content(out: &mut String, value: &str) {
    let bytes = value.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        // Most values need no escaping: skip to the next byte that might.
        match bytes[i..]
            .iter()
            .position(|&b| JSON_SPECIAL[usize::from(b)])
        {
            Some(n) => i += n,
            None => break,
        }
        let b = bytes[i];
        let escape: Option<&str> = match b {
            b'"' => Some("\\\""),
            b'\\' => Some("\\\\"),
            b'\n' => Some("\\n"),
            b'\r' => Some("\\r"),
            b'\t' => Some("\\t"),
            0x08 => Some("\\b"),
            0x0c => Some("\\f"),
            0x00..=0x1f => None,
            // U+2028 and U+2029 are E2 80 A8 and E2 80 A9.
            _ if bytes.get(i + 1) == Some(&0x80)
                && matches!(bytes.get(i + 2), Some(0xa8 | 0xa9)) =>
            {
                Some(if bytes[i + 2] == 0xa8 {
                    "\\u2028"
                } else {
                    "\\u2029"
                })
            }
            _ => {
                i += 1;
                continue;
            }
        };
        out.push_str(&value[start..i]);
        match escape {
            Some(e) => out.push_str(e),
            None => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.push_str("\\u00");
                out.push(HEX[usize::from(b >> 4)] as char);
                out.push(HEX[usize::from(b & 0xf)] as char);
            }
        }
        i += if b == 0xe2 { 3 } else { 1 };
        start = i;
    }
    out.push_str(&value[start..]);
}

/// The bytes [`write_json_content`] looks at: `"`, `\`, control characters, and 0xE2 (the first
/// byte of U+2028 and U+2029).
const JSON_SPECIAL: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 0x20 {
        t[b] = true;
        b += 1;
    }
    t[b'"' as usize] = true;
    t[b'\\' as usize] = true;
    t[0xe2] = true;
    t
};

/// Appends `value` with the entity escaping of Go's `html/template` (its `htmlEscaper`):
/// `"` `'` `&` `+` `<` `>` become entities and NUL becomes U+FFFD.
pub(crate) fn write_markup(out: &mut String, value: &str) {
    let mut start = 0;
    for (i, b) in value.bytes().enumerate() {
        let rep = match b {
            b'"' => "&#34;",
            b'\'' => "&#39;",
            b'&' => "&amp;",
            b'+' => "&#43;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            0 => "\u{FFFD}",
            _ => continue,
        };
        out.push_str(&value[start..i]);
        out.push_str(rep);
        start = i + 1;
    }
    out.push_str(&value[start..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_follows_the_extension() {
        for (path, kind) in [
            ("templates/default_webhook.json", Escaping::Json),
            ("a/B.JSON", Escaping::Json),
            ("body.xml", Escaping::Markup),
            ("page.html", Escaping::Markup),
            ("page.htm", Escaping::Markup),
            ("transform.tmpl", Escaping::Raw),
            ("noext", Escaping::Raw),
            ("json", Escaping::Raw),
        ] {
            assert_eq!(Escaping::for_path(path), kind, "{path}");
        }
    }

    #[test]
    fn json_content_round_trips() {
        for s in [
            "plain",
            "quote \" and backslash \\",
            "new\nline\r\ttab\u{8}\u{c}",
            "nul \0 and \u{1f} unit separator",
            "non-ASCII: é ü 日本 🚀",
            "line sep \u{2028} para sep \u{2029}",
            "<script>alert('x')</script> & +",
            "\u{7f} delete",
            "\u{e2}\u{80}", // characters, not the bytes of U+2028
        ] {
            let mut out = String::from("\"");
            write_json_content(&mut out, s);
            out.push('"');
            let back: String = serde_json::from_str(&out).unwrap();
            assert_eq!(back, s, "{out}");
        }
        assert_eq!(Escaping::Json.escape("a\u{2028}b\u{1}"), "a\\u2028b\\u0001");
    }

    #[test]
    fn markup_is_go_html_escaping() {
        assert_eq!(
            Escaping::Markup.escape("<a href=\"x\">Tom & Jerry's +1</a>\0"),
            "&lt;a href=&#34;x&#34;&gt;Tom &amp; Jerry&#39;s &#43;1&lt;/a&gt;\u{FFFD}"
        );
        assert_eq!(Escaping::Raw.escape("<\"&>"), "<\"&>");
    }
}
