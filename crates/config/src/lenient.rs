//! Reading a wire value without failing: each field of a wire type is of its declared type or,
//! when the file holds something else, the JSON value found, so that one wrong field does not
//! hide the others and every error can say what it found.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// A value as a file holds it: of the type the schema declares, or the JSON value found instead.
#[derive(Debug, Clone, PartialEq)]
pub enum Lenient<T> {
    /// Of the declared type.
    Typed(T),
    /// Anything else, kept so that the error can describe it.
    Other(Value),
}

/// A type a wire field may hold. Structs are read from JSON objects only (serde would otherwise
/// take an array for a struct's fields in order).
pub trait Wire: DeserializeOwned {
    /// Whether `value` is of the JSON kind this type is read from.
    fn kind_fits(value: &Value) -> bool {
        let _ = value;
        true
    }
}

impl Wire for String {}
impl Wire for u64 {}
impl Wire for bool {}
impl<T: Wire> Wire for Vec<Lenient<T>> {}
impl<T: Wire> Wire for std::collections::BTreeMap<String, Lenient<T>> {}

/// Declares wire structs, read from JSON objects only.
macro_rules! wire_objects {
    ($($t:ty),* $(,)?) => {
        $(impl $crate::lenient::Wire for $t {
            fn kind_fits(value: &serde_json::Value) -> bool {
                value.is_object()
            }
        })*
    };
}
pub(crate) use wire_objects;

impl<'de, T: Wire> Deserialize<'de> for Lenient<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(d)?;
        if T::kind_fits(&value)
            && let Ok(t) = T::deserialize(&value)
        {
            return Ok(Lenient::Typed(t));
        }
        Ok(Lenient::Other(value))
    }
}

/// For a field where `null` is a mistake rather than absence (`"events": null`): with
/// `#[serde(default, deserialize_with = "keep_null")]`, a present `null` is `Some(Other(null))`.
pub(crate) fn keep_null<'de, D: Deserializer<'de>, T: Wire>(
    d: D,
) -> Result<Option<Lenient<T>>, D::Error> {
    Lenient::deserialize(d).map(Some)
}
