//! The filters Hookshot adds to liquid's standard ones, and the escaping filter it appends to every
//! output of a liquid template rendered by the liquid crate.

use std::fmt;

use liquid_core::error::Result as LiquidResult;
use liquid_core::model::{ScalarCow, Value};
use liquid_core::parser::{FilterArguments, ParameterReflection};
use liquid_core::{Filter, FilterReflection, ParseFilter, Runtime, ValueView};

use crate::escape::Escaping;
use crate::program::json_string;

/// What one filter does to its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `as_rfc3339`: a time (or a time string) as RFC 3339.
    AsRfc3339,
    /// `as_rfc3339_from_string`: Go's time string as RFC 3339, other text unchanged.
    AsRfc3339FromString,
    /// `json`: the value as a JSON literal.
    Json,
    /// Appended by Hookshot: the value escaped for the template's kind.
    Escape(Escaping),
}

/// The name of the filter Hookshot appends to outputs of templates of `escaping`.
pub(crate) fn escape_filter_name(escaping: Escaping) -> &'static str {
    match escaping {
        Escaping::Json => "__hookshot_escape_json",
        Escaping::Markup => "__hookshot_escape_markup",
        Escaping::Raw => "__hookshot_escape_raw",
    }
}

/// One of Hookshot's filters, as liquid's parser registers it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HookshotFilter(pub(crate) Kind);

impl HookshotFilter {
    /// Every filter to register.
    pub(crate) fn all() -> [HookshotFilter; 6] {
        [
            HookshotFilter(Kind::AsRfc3339),
            HookshotFilter(Kind::AsRfc3339FromString),
            HookshotFilter(Kind::Json),
            HookshotFilter(Kind::Escape(Escaping::Json)),
            HookshotFilter(Kind::Escape(Escaping::Markup)),
            HookshotFilter(Kind::Escape(Escaping::Raw)),
        ]
    }

    /// The filter's name in templates.
    pub(crate) fn name(self) -> &'static str {
        match self.0 {
            Kind::AsRfc3339 => "as_rfc3339",
            Kind::AsRfc3339FromString => "as_rfc3339_from_string",
            Kind::Json => "json",
            Kind::Escape(e) => escape_filter_name(e),
        }
    }
}

impl FilterReflection for HookshotFilter {
    fn name(&self) -> &str {
        HookshotFilter::name(*self)
    }
    fn description(&self) -> &str {
        match self.0 {
            Kind::AsRfc3339 => "A time as RFC 3339 (Go's time.RFC3339).",
            Kind::AsRfc3339FromString => {
                "Go's time string as RFC 3339; any other text unchanged (Tyk's semantics)."
            }
            Kind::Json => "The value as a JSON literal, quotes included.",
            Kind::Escape(_) => "Escapes a value for the template's kind (added by Hookshot).",
        }
    }
    fn positional_parameters(&self) -> &'static [ParameterReflection] {
        &[]
    }
    fn keyword_parameters(&self) -> &'static [ParameterReflection] {
        &[]
    }
}

impl ParseFilter for HookshotFilter {
    fn parse(&self, mut arguments: FilterArguments<'_>) -> LiquidResult<Box<dyn Filter>> {
        if arguments.positional.next().is_some() || arguments.keyword.next().is_some() {
            return Err(liquid_core::Error::with_msg(format!(
                "the `{}` filter takes no arguments",
                self.name()
            )));
        }
        Ok(Box::new(*self))
    }
    fn reflection(&self) -> &dyn FilterReflection {
        self
    }
}

impl fmt::Display for HookshotFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Filter for HookshotFilter {
    fn evaluate(&self, input: &dyn ValueView, _runtime: &dyn Runtime) -> LiquidResult<Value> {
        Ok(match self.0 {
            Kind::AsRfc3339 | Kind::AsRfc3339FromString => {
                let from_string = self.0 == Kind::AsRfc3339FromString;
                match input.as_scalar() {
                    Some(s) if s.type_name() == "string" => {
                        let text = s.to_kstr();
                        let v = crate::data::Val::Str(text.as_str());
                        match crate::program::time_filter(v, from_string) {
                            Some(crate::data::Val::String(t)) => Value::scalar(t),
                            _ => input.to_value(),
                        }
                    }
                    _ => input.to_value(),
                }
            }
            Kind::Json => {
                let mut out = String::new();
                write_json(&mut out, &input.to_value());
                Value::scalar(out)
            }
            Kind::Escape(escaping) => {
                if input.is_nil() {
                    Value::Nil
                } else {
                    Value::scalar(escaping.escape(&input.render().to_string()))
                }
            }
        })
    }
}

/// Writes a liquid value as JSON, escaping strings as [`Escaping::Json`] does.
fn write_json(out: &mut String, v: &Value) {
    match v {
        Value::Nil | Value::State(_) => out.push_str("null"),
        Value::Scalar(s) => write_scalar(out, s.as_ref()),
        Value::Array(a) => {
            out.push('[');
            for (i, v) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(out, v);
            }
            out.push(']');
        }
        Value::Object(o) => {
            let mut entries: Vec<_> = o.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&json_string(k));
                out.push(':');
                write_json(out, v);
            }
            out.push('}');
        }
    }
}

fn write_scalar(out: &mut String, s: ScalarCow<'_>) {
    if let Some(b) = s.to_bool() {
        out.push_str(if b { "true" } else { "false" });
    } else if let (Some(n), true) = (s.to_integer(), s.type_name() == "whole number") {
        out.push_str(&n.to_string());
    } else if let (Some(f), true) = (s.to_float(), s.type_name() == "fractional number") {
        match serde_json::Number::from_f64(f) {
            Some(n) => out.push_str(&n.to_string()),
            None => out.push_str("null"),
        }
    } else {
        out.push_str(&json_string(s.to_kstr().as_str()));
    }
}

/// The name of the filter Hookshot puts in front of a liquid range whose bounds are not both
/// integer literals: `{% assign __hookshot_range_0 = stop | __hookshot_range_stop: start %}`.
pub(crate) const RANGE_STOP: &str = "__hookshot_range_stop";

/// Checks a range's bounds before the liquid crate builds it (it allocates every element first):
/// the stop bound, unchanged when the range has at most [`crate::MAX_RANGE_ELEMENTS`] elements,
/// else an error naming the range. Bounds that are not whole numbers pass unchanged, for the liquid
/// crate to report.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RangeStopFilter;

/// [`RangeStopFilter`] with its start bound.
#[derive(Debug)]
struct RangeStop {
    start: liquid_core::Expression,
}

impl FilterReflection for RangeStopFilter {
    fn name(&self) -> &str {
        RANGE_STOP
    }
    fn description(&self) -> &str {
        "Checks the size of a range before it is built (added by Hookshot)."
    }
    fn positional_parameters(&self) -> &'static [ParameterReflection] {
        &[]
    }
    fn keyword_parameters(&self) -> &'static [ParameterReflection] {
        &[]
    }
}

impl ParseFilter for RangeStopFilter {
    fn parse(&self, mut arguments: FilterArguments<'_>) -> LiquidResult<Box<dyn Filter>> {
        let (Some(start), None, None) = (
            arguments.positional.next(),
            arguments.positional.next(),
            arguments.keyword.next(),
        ) else {
            return Err(liquid_core::Error::with_msg(format!(
                "the `{RANGE_STOP}` filter takes the range's start"
            )));
        };
        Ok(Box::new(RangeStop { start }))
    }
    fn reflection(&self) -> &dyn FilterReflection {
        self
    }
}

impl fmt::Display for RangeStop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{RANGE_STOP}: {}", self.start)
    }
}

impl Filter for RangeStop {
    fn evaluate(&self, input: &dyn ValueView, runtime: &dyn Runtime) -> LiquidResult<Value> {
        let start = self.start.evaluate(runtime)?;
        let whole = |v: &dyn ValueView| v.as_scalar().and_then(|s| s.to_integer());
        if let (Some(start), Some(stop)) = (whole(start.as_view()), whole(input)) {
            let elements = i128::from(stop) - i128::from(start) + 1;
            if elements > crate::MAX_RANGE_ELEMENTS as i128 {
                return Err(liquid_core::Error::with_msg(format!(
                    "the range ({start}..{stop}) has {elements} elements, more than the {} a range may have",
                    crate::MAX_RANGE_ELEMENTS
                )));
            }
        }
        Ok(input.to_value())
    }
}
