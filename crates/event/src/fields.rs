//! Field access by Tyk's names: what a reader of events (a template) needs to look a field up or
//! walk them all, without a list of names of its own.
//!
//! Each metadata struct is declared with `tyk_record!`, which writes
//! the struct, its serde names and its [`Fields`] impl from one list, so a field added there is
//! serialised and readable under the same name with no other edit.

use std::collections::BTreeMap;

use crate::time::Timestamp;

/// The value of one field, borrowed from the event.
#[derive(Debug, Clone, Copy)]
pub enum FieldValue<'a> {
    /// Text.
    Str(&'a str),
    /// An integer.
    Int(i64),
    /// A floating-point number.
    Float(f64),
    /// A boolean.
    Bool(bool),
    /// A time (its serde form is Go's time string).
    Time(&'a Timestamp),
    /// A struct: a fixed set of names, always present.
    Record(&'a dyn Fields),
    /// A map: any names, possibly none.
    Map(&'a dyn Fields),
    /// Free-form JSON (a custom event's metadata).
    Json(&'a serde_json::Value),
}

/// Something whose fields can be read by their Tyk names, the names of its serde form.
pub trait Fields: std::fmt::Debug {
    /// The field `name`, or `None` when there is none (or it is unset).
    fn field(&self, name: &str) -> Option<FieldValue<'_>>;

    /// Calls `visit` with each field that is set, by name, in serde order.
    fn each_field<'a>(&'a self, visit: &mut dyn FnMut(&'a str, FieldValue<'a>));
}

/// A value a field of a metadata struct may hold.
pub(crate) trait ToField {
    /// The value as a field; `None` when unset.
    fn to_field(&self) -> Option<FieldValue<'_>>;
}

impl ToField for String {
    #[inline]
    fn to_field(&self) -> Option<FieldValue<'_>> {
        Some(FieldValue::Str(self))
    }
}

impl ToField for i64 {
    #[inline]
    fn to_field(&self) -> Option<FieldValue<'_>> {
        Some(FieldValue::Int(*self))
    }
}

impl ToField for f64 {
    #[inline]
    fn to_field(&self) -> Option<FieldValue<'_>> {
        Some(FieldValue::Float(*self))
    }
}

impl ToField for bool {
    #[inline]
    fn to_field(&self) -> Option<FieldValue<'_>> {
        Some(FieldValue::Bool(*self))
    }
}

impl ToField for Timestamp {
    #[inline]
    fn to_field(&self) -> Option<FieldValue<'_>> {
        Some(FieldValue::Time(self))
    }
}

impl<T: ToField> ToField for Option<T> {
    #[inline]
    fn to_field(&self) -> Option<FieldValue<'_>> {
        self.as_ref()?.to_field()
    }
}

impl ToField for BTreeMap<String, String> {
    fn to_field(&self) -> Option<FieldValue<'_>> {
        Some(FieldValue::Map(self))
    }
}

impl Fields for BTreeMap<String, String> {
    fn field(&self, name: &str) -> Option<FieldValue<'_>> {
        self.get(name).map(|v| FieldValue::Str(v))
    }

    fn each_field<'a>(&'a self, visit: &mut dyn FnMut(&'a str, FieldValue<'a>)) {
        for (k, v) in self {
            visit(k, FieldValue::Str(v));
        }
    }
}

impl Fields for serde_json::Map<String, serde_json::Value> {
    fn field(&self, name: &str) -> Option<FieldValue<'_>> {
        self.get(name).map(FieldValue::Json)
    }

    fn each_field<'a>(&'a self, visit: &mut dyn FnMut(&'a str, FieldValue<'a>)) {
        for (k, v) in self {
            visit(k, FieldValue::Json(v));
        }
    }
}

/// Declares a struct of named fields with its serde form and its [`Fields`] impl from one list:
/// each field is written `name: Type => "TykName"`, and `"TykName"` is both its serde name and
/// the name [`Fields::field`] answers to. Attributes on the struct and on each field pass through.
macro_rules! tyk_record {
    (
        $(#[$attr:meta])*
        pub struct $name:ident {
            $(
                $(#[$fattr:meta])*
                pub $field:ident: $ty:ty => $tyk:literal,
            )*
        }
    ) => {
        $(#[$attr])*
        pub struct $name {
            $(
                $(#[$fattr])*
                #[serde(rename = $tyk)]
                pub $field: $ty,
            )*
        }

        impl $crate::fields::Fields for $name {
            #[inline]
            fn field(&self, name: &str) -> Option<$crate::fields::FieldValue<'_>> {
                match name {
                    $($tyk => $crate::fields::ToField::to_field(&self.$field),)*
                    _ => None,
                }
            }

            fn each_field<'a>(
                &'a self,
                visit: &mut dyn FnMut(&'a str, $crate::fields::FieldValue<'a>),
            ) {
                $(
                    if let Some(v) = $crate::fields::ToField::to_field(&self.$field) {
                        visit($tyk, v);
                    }
                )*
            }
        }

        impl $crate::fields::ToField for $name {
            fn to_field(&self) -> Option<$crate::fields::FieldValue<'_>> {
                Some($crate::fields::FieldValue::Record(self))
            }
        }
    };
}

pub(crate) use tyk_record;
