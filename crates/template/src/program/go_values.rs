//! Go's semantics for values: truth, `eq` and the ordering functions, and the time functions.

use hookshot_event::Timestamp;

use crate::data::Val;

/// Go's truth: false, 0, "", nil and empty maps and slices are false.
pub(crate) fn go_truth(v: &Val<'_>) -> bool {
    match v {
        Val::Missing => false,
        Val::Str(s) => !s.is_empty(),
        Val::String(s) => !s.is_empty(),
        Val::Int(n) => *n != 0,
        Val::Float(f) => *f != 0.0,
        Val::Bool(b) => *b,
        Val::Time(_) => true,
        Val::Obj(o) => !o.is_empty(),
        Val::Array(a) => !a.is_empty(),
    }
}

#[derive(PartialEq)]
pub(super) enum GoKind {
    Invalid,
    Bool,
    Int,
    Float,
    String,
    Other,
}

pub(super) fn go_kind(v: &Val<'_>) -> GoKind {
    match v {
        Val::Missing => GoKind::Invalid,
        Val::Bool(_) => GoKind::Bool,
        Val::Int(_) => GoKind::Int,
        Val::Float(_) => GoKind::Float,
        Val::Str(_) | Val::String(_) => GoKind::String,
        Val::Time(_) | Val::Obj(_) | Val::Array(_) => GoKind::Other,
    }
}

/// Go's `eq` on two values: a missing value equals only a missing value; values of different
/// kinds are an error, as in Go.
pub(super) fn go_eq(a: &Val<'_>, b: &Val<'_>) -> Result<bool, String> {
    // Tyk's `TimeStamp` is a string: a time compares with a string as Go's time string.
    match (a, b) {
        (Val::Time(t), other) | (other, Val::Time(t)) if other.as_str().is_some() => {
            return Ok(other.as_str() == Some(t.to_string().as_str()));
        }
        _ => {}
    }
    let (ka, kb) = (go_kind(a), go_kind(b));
    if ka != kb {
        if ka == GoKind::Invalid || kb == GoKind::Invalid {
            return Ok(false);
        }
        return Err(format!(
            "incompatible types for comparison ({} and {})",
            a.type_name(),
            b.type_name()
        ));
    }
    Ok(match (a, b) {
        (Val::Missing, Val::Missing) => true,
        (Val::Bool(x), Val::Bool(y)) => x == y,
        (Val::Int(x), Val::Int(y)) => x == y,
        (Val::Float(x), Val::Float(y)) => x == y,
        (Val::Time(x), Val::Time(y)) => x == y,
        _ => match (a.as_str(), b.as_str()) {
            (Some(x), Some(y)) => x == y,
            _ => return Err(format!("cannot compare {}", a.type_name())),
        },
    })
}

/// Go's `lt` family: integers, numbers and strings of the same kind.
pub(super) fn go_order(a: &Val<'_>, b: &Val<'_>) -> Result<std::cmp::Ordering, String> {
    let bad = || format!("cannot order {} and {}", a.type_name(), b.type_name());
    match (a, b) {
        (Val::Int(x), Val::Int(y)) => Ok(x.cmp(y)),
        (Val::Float(x), Val::Float(y)) => x.partial_cmp(y).ok_or_else(bad),
        (Val::Time(t), other) if other.as_str().is_some() => Ok(t
            .to_string()
            .as_str()
            .cmp(other.as_str().unwrap_or_default())),
        (other, Val::Time(t)) if other.as_str().is_some() => Ok(other
            .as_str()
            .unwrap_or_default()
            .cmp(t.to_string().as_str())),
        _ => match (a.as_str(), b.as_str()) {
            (Some(x), Some(y)) => Ok(x.cmp(y)),
            _ => Err(bad()),
        },
    }
}

/// `as_rfc3339` (`from_string` false) and `as_rfc3339_from_string` on a value: a time is written
/// as Go's `time.RFC3339`; a string in Go's time format (or, for `as_rfc3339`, RFC 3339) is parsed
/// and written so; any other string is returned unchanged; nothing stays nothing.
/// `None` for other values.
pub(crate) fn time_filter(v: Val<'_>, from_string: bool) -> Option<Val<'_>> {
    match v {
        Val::Time(t) => Some(Val::String(t.to_rfc3339())),
        Val::Missing => Some(Val::Missing),
        Val::Str(_) | Val::String(_) => {
            let s = v.as_str().unwrap_or_default();
            let parsed = Timestamp::parse_go(s)
                .ok()
                .or_else(|| (!from_string).then(|| Timestamp::parse_rfc3339(s).ok())?);
            Some(match parsed {
                Some(t) => Val::String(t.to_rfc3339()),
                None => v,
            })
        }
        _ => None,
    }
}
