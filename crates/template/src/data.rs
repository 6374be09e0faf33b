//! The event as compiled templates see it: a path of names, read in place through the event's
//! [`Fields`].
//!
//! The names are those of the event's serde form (`Type`, `Meta.Path`, `TimeStamp`, the seed
//! document's `EventType` and `EventMetaData`, and `API.ID` / `API.Name` / `API.OrgID`).
//! A name the event does not have reads as [`Val::Missing`], which renders as nothing.

use std::fmt::Write as _;

use hookshot_event::{Event, FieldValue, Fields, Timestamp};

/// A field name of a template's path, by its text: the event's own [`Fields`] answer to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Key(Box<str>);

impl Key {
    /// The key for `name`.
    pub(crate) fn new(name: &str) -> Key {
        Key(name.into())
    }

    /// The key's name.
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

/// Something with named fields.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Obj<'a> {
    /// A struct of the event (the event, its metadata, `API`, `HostInfo`): never empty.
    Record(&'a dyn Fields),
    /// A map of the event (`MetaData`).
    Map(&'a dyn Fields),
    /// An object of a custom event's free-form metadata.
    Json(&'a serde_json::Map<String, serde_json::Value>),
}

/// A value read from an event, or computed from one.
#[derive(Debug, Clone)]
pub(crate) enum Val<'a> {
    /// The event has no such field (or a JSON null).
    Missing,
    Str(&'a str),
    String(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Time(&'a Timestamp),
    Obj(Obj<'a>),
    Array(&'a [serde_json::Value]),
}

impl<'a> Val<'a> {
    /// The value of `path` in `event`; a missing field gives [`Val::Missing`] however deep the
    /// path goes. `Err(i)` when `path[i]` is asked of a value that has no fields (a string, a
    /// number): a mistake in the template rather than a field this event lacks.
    pub(crate) fn lookup(event: &'a Event, path: &[Key]) -> Result<Val<'a>, usize> {
        let Some((first, rest)) = path.split_first() else {
            return Ok(Val::Obj(Obj::Record(event)));
        };
        let mut val = event
            .field(first.as_str())
            .map_or(Val::Missing, Val::from_field);
        for (i, key) in (1..).zip(rest) {
            val = match val {
                Val::Obj(obj) => obj.get(key),
                Val::Missing => return Ok(Val::Missing),
                _ => return Err(i),
            };
        }
        Ok(val)
    }

    /// `self` as text when it is a string.
    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            Val::Str(s) => Some(s),
            Val::String(s) => Some(s),
            _ => None,
        }
    }

    /// A short name of the value's type, for error messages.
    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            Val::Missing => "nothing",
            Val::Str(_) | Val::String(_) => "a string",
            Val::Int(_) => "an integer",
            Val::Float(_) => "a number",
            Val::Bool(_) => "a boolean",
            Val::Time(_) => "a time",
            Val::Obj(_) => "an object",
            Val::Array(_) => "an array",
        }
    }

    /// The value of a field of the event.
    pub(crate) fn from_field(v: FieldValue<'a>) -> Val<'a> {
        match v {
            FieldValue::Str(s) => Val::Str(s),
            FieldValue::Int(n) => Val::Int(n),
            FieldValue::Float(f) => Val::Float(f),
            FieldValue::Bool(b) => Val::Bool(b),
            FieldValue::Time(t) => Val::Time(t),
            FieldValue::Record(r) => Val::Obj(Obj::Record(r)),
            FieldValue::Map(m) => Val::Obj(Obj::Map(m)),
            FieldValue::Json(j) => Val::from_json(j),
        }
    }

    fn from_json(v: &'a serde_json::Value) -> Val<'a> {
        use serde_json::Value;
        match v {
            Value::Null => Val::Missing,
            Value::Bool(b) => Val::Bool(*b),
            Value::Number(n) => n
                .as_i64()
                .map(Val::Int)
                .unwrap_or_else(|| Val::Float(n.as_f64().unwrap_or(f64::NAN))),
            Value::String(s) => Val::Str(s),
            Value::Array(a) => Val::Array(a),
            Value::Object(o) => Val::Obj(Obj::Json(o)),
        }
    }
}

impl<'a> Obj<'a> {
    /// The field `key`, or [`Val::Missing`].
    pub(crate) fn get(self, key: &Key) -> Val<'a> {
        match self {
            Obj::Record(r) | Obj::Map(r) => {
                r.field(key.as_str()).map_or(Val::Missing, Val::from_field)
            }
            Obj::Json(m) => m.get(key.as_str()).map_or(Val::Missing, Val::from_json),
        }
    }

    /// Whether the object has no fields (Go's truth of an empty map).
    pub(crate) fn is_empty(self) -> bool {
        match self {
            Obj::Map(m) => {
                let mut empty = true;
                m.each_field(&mut |_, _| empty = false);
                empty
            }
            Obj::Json(m) => m.is_empty(),
            // Structs in Tyk: always true.
            Obj::Record(_) => false,
        }
    }
}

/// Appends a float as Go's `fmt` prints a `float64` with `%v`: the shortest digits that read
/// back, in exponent form (`1e+21`, `1.5e-05`) when the exponent is below -4 or at least 21.
pub(crate) fn write_go_float(out: &mut String, f: f64) {
    if f.is_nan() {
        out.push_str("NaN");
        return;
    }
    if f.is_infinite() {
        out.push_str(if f > 0.0 { "+Inf" } else { "-Inf" });
        return;
    }
    if f == 0.0 {
        out.push_str(if f.is_sign_negative() { "-0" } else { "0" });
        return;
    }
    // Rust's `{:e}` gives the shortest round-trip digits: "1.5e-5", "-1.25e2".
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..21).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        let _ = write!(out, "{mantissa}e{sign}{:02}", exp.unsigned_abs());
    } else {
        let _ = write!(out, "{f}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hookshot_event::EventType;

    fn path(p: &str) -> Vec<Key> {
        p.split('.').map(Key::new).collect()
    }

    #[test]
    fn lookup_follows_the_serde_form() {
        for t in EventType::ALL
            .iter()
            .cloned()
            .chain([EventType::Custom("Deploy".into())])
        {
            let event = Event::sample(&t);
            let json = event.to_json();
            let check = |p: &str| {
                let expected = p.split('.').fold(&json, |v, k| &v[k]);
                let got = Val::lookup(&event, &path(p)).unwrap();
                let got_json = match got {
                    Val::Missing => serde_json::Value::Null,
                    Val::Str(s) => s.into(),
                    Val::Int(n) => n.into(),
                    Val::Float(f) => f.into(),
                    Val::Bool(b) => b.into(),
                    Val::Time(t) => t.to_string().into(),
                    Val::Obj(_) | Val::Array(_) | Val::String(_) => expected.clone(),
                };
                assert_eq!(&got_json, expected, "{t}: {p}");
            };
            for p in [
                "Type",
                "EventType",
                "TimeStamp",
                "API.ID",
                "API.Name",
                "API.OrgID",
                "API.Nope",
            ] {
                check(p);
            }
            let serde_json::Value::Object(meta) = &json["Meta"] else {
                panic!()
            };
            for (k, v) in meta {
                check(&format!("Meta.{k}"));
                check(&format!("EventMetaData.{k}"));
                if let serde_json::Value::Object(inner) = v {
                    for (k2, v2) in inner {
                        check(&format!("Meta.{k}.{k2}"));
                        if let serde_json::Value::Object(inner2) = v2 {
                            for k3 in inner2.keys() {
                                check(&format!("Meta.{k}.{k2}.{k3}"));
                            }
                        }
                    }
                }
            }
            check("Meta.NoSuchField");
            check("Meta.HostInfo.MetaData.nothing");
            assert_eq!(Val::lookup(&event, &path("Type.Name")).unwrap_err(), 1);
        }
    }

    #[test]
    fn go_float_formatting() {
        for (f, s) in [
            (12.5, "12.5"),
            (12.0, "12"),
            (0.0, "0"),
            (-3.25, "-3.25"),
            (1e21, "1e+21"),
            (1e20, "100000000000000000000"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1.5e-7, "1.5e-07"),
            (123456789.125, "123456789.125"),
            (1.0 / 3.0, "0.3333333333333333"),
        ] {
            let mut out = String::new();
            write_go_float(&mut out, f);
            assert_eq!(out, s, "{f}");
        }
    }
}
