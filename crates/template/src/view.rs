//! The event as the liquid crate sees it: an `ObjectView` over the event, read in place.
//!
//! Each object's fields are gathered through the event's `Fields` on first use; nothing is
//! converted except what the event does not hold as text (times, written once on first use) and
//! custom metadata (turned into liquid values when gathered). A name the event
//! lacks reads as [`Missing`], which renders as nothing, is false, and can be indexed further, so
//! `{{ Meta.HostInfo.MetaData.host_name }}` is empty for an `AuthFailure` instead of an error.

use std::fmt;
use std::sync::OnceLock;

use hookshot_event::{FieldValue, Fields, Timestamp};
use liquid_core::model::{DisplayCow, KStringCow, State};
use liquid_core::{ObjectView, Value, ValueView};

/// A field the event does not have.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Missing;

pub(crate) static MISSING: Missing = Missing;

impl ValueView for Missing {
    fn as_debug(&self) -> &dyn fmt::Debug {
        self
    }
    fn render(&self) -> DisplayCow<'_> {
        DisplayCow::Owned(Box::new(""))
    }
    fn source(&self) -> DisplayCow<'_> {
        DisplayCow::Owned(Box::new("nil"))
    }
    fn type_name(&self) -> &'static str {
        "nil"
    }
    fn query_state(&self, state: State) -> bool {
        !matches!(state, State::Truthy)
    }
    fn to_kstr(&self) -> KStringCow<'_> {
        KStringCow::from_static("")
    }
    fn to_value(&self) -> Value {
        Value::Nil
    }
    fn as_object(&self) -> Option<&dyn ObjectView> {
        Some(self)
    }
    fn is_nil(&self) -> bool {
        true
    }
}

impl ObjectView for Missing {
    fn as_value(&self) -> &dyn ValueView {
        self
    }
    fn size(&self) -> i64 {
        0
    }
    fn keys<'k>(&'k self) -> Box<dyn Iterator<Item = KStringCow<'k>> + 'k> {
        Box::new(std::iter::empty())
    }
    fn values<'k>(&'k self) -> Box<dyn Iterator<Item = &'k dyn ValueView> + 'k> {
        Box::new(std::iter::empty())
    }
    fn iter<'k>(&'k self) -> Box<dyn Iterator<Item = (KStringCow<'k>, &'k dyn ValueView)> + 'k> {
        Box::new(std::iter::empty())
    }
    fn contains_key(&self, _index: &str) -> bool {
        true
    }
    fn get<'s>(&'s self, _index: &str) -> Option<&'s dyn ValueView> {
        Some(&MISSING)
    }
}

/// An object of the event (the event itself, its metadata, `API`, `HostInfo`, `MetaData`), read
/// through its [`Fields`]; its fields are gathered on first use.
#[derive(Debug)]
pub(crate) struct RecordView<'a> {
    record: &'a dyn Fields,
    fields: OnceLock<Vec<(&'a str, FieldView<'a>)>>,
}

/// One field, as liquid sees it.
#[derive(Debug)]
enum FieldView<'a> {
    Str(&'a str),
    Int(i64),
    Float(f64),
    Bool(bool),
    /// A time, written as Go's time string on first use.
    Time(&'a Timestamp, OnceLock<String>),
    Object(RecordView<'a>),
    /// A custom event's free-form JSON, as a liquid value.
    Json(Value),
}

impl<'a> FieldView<'a> {
    fn new(v: FieldValue<'a>) -> FieldView<'a> {
        match v {
            FieldValue::Str(s) => FieldView::Str(s),
            FieldValue::Int(n) => FieldView::Int(n),
            FieldValue::Float(f) => FieldView::Float(f),
            FieldValue::Bool(b) => FieldView::Bool(b),
            FieldValue::Time(t) => FieldView::Time(t, OnceLock::new()),
            FieldValue::Record(r) | FieldValue::Map(r) => FieldView::Object(RecordView::new(r)),
            FieldValue::Json(j) => FieldView::Json(json_value(j)),
        }
    }

    fn view(&self) -> &dyn ValueView {
        match self {
            FieldView::Str(s) => s,
            FieldView::Int(n) => n,
            FieldView::Float(f) => f,
            FieldView::Bool(b) => b,
            FieldView::Time(t, text) => text.get_or_init(|| t.to_string()),
            FieldView::Object(o) => o,
            FieldView::Json(v) => v,
        }
    }
}

/// A field as a liquid value, as its serde form converts.
fn owned_field(v: FieldValue<'_>) -> Value {
    match v {
        FieldValue::Str(s) => Value::scalar(s.to_owned()),
        FieldValue::Int(n) => Value::scalar(n),
        FieldValue::Float(f) => Value::scalar(f),
        FieldValue::Bool(b) => Value::scalar(b),
        FieldValue::Time(t) => Value::scalar(t.to_string()),
        FieldValue::Record(r) | FieldValue::Map(r) => owned_record(r),
        FieldValue::Json(j) => json_value(j),
    }
}

fn owned_record(r: &dyn Fields) -> Value {
    let mut object = liquid_core::Object::new();
    r.each_field(&mut |name, v| {
        object.insert(name.to_owned().into(), owned_field(v));
    });
    Value::Object(object)
}

fn json_value(v: &serde_json::Value) -> Value {
    liquid_core::model::to_value(v).unwrap_or(Value::Nil)
}

impl<'a> RecordView<'a> {
    pub(crate) fn new(record: &'a dyn Fields) -> RecordView<'a> {
        RecordView {
            record,
            fields: OnceLock::new(),
        }
    }

    fn fields(&self) -> &[(&'a str, FieldView<'a>)] {
        self.fields.get_or_init(|| {
            // Every object of the event has a handful of fields.
            let mut fields = Vec::with_capacity(8);
            self.record
                .each_field(&mut |name, v| fields.push((name, FieldView::new(v))));
            fields
        })
    }

    fn field(&self, name: &str) -> Option<&dyn ValueView> {
        self.fields()
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.view())
    }
}

impl ValueView for RecordView<'_> {
    fn as_debug(&self) -> &dyn fmt::Debug {
        self
    }
    fn render(&self) -> DisplayCow<'_> {
        // As liquid writes an object (each key, then its value), but in the fields' own
        // order, so that the same event always renders the same body.
        let mut out = String::new();
        for (k, v) in self.fields() {
            out.push_str(k);
            out.push_str(&v.view().render().to_string());
        }
        DisplayCow::Owned(Box::new(out))
    }
    fn source(&self) -> DisplayCow<'_> {
        DisplayCow::Owned(Box::new(self.to_value().source().to_string()))
    }
    fn type_name(&self) -> &'static str {
        "object"
    }
    fn query_state(&self, state: State) -> bool {
        match state {
            State::Truthy => true,
            State::DefaultValue | State::Empty | State::Blank => self.fields().is_empty(),
        }
    }
    fn to_kstr(&self) -> KStringCow<'_> {
        KStringCow::from_string(self.render().to_string())
    }
    fn to_value(&self) -> Value {
        owned_record(self.record)
    }
    fn as_object(&self) -> Option<&dyn ObjectView> {
        Some(self)
    }
}

impl ObjectView for RecordView<'_> {
    fn as_value(&self) -> &dyn ValueView {
        self
    }
    fn size(&self) -> i64 {
        self.fields().len() as i64
    }
    fn keys<'k>(&'k self) -> Box<dyn Iterator<Item = KStringCow<'k>> + 'k> {
        Box::new(self.fields().iter().map(|(n, _)| KStringCow::from_ref(n)))
    }
    fn values<'k>(&'k self) -> Box<dyn Iterator<Item = &'k dyn ValueView> + 'k> {
        Box::new(self.fields().iter().map(|(_, v)| v.view()))
    }
    fn iter<'k>(&'k self) -> Box<dyn Iterator<Item = (KStringCow<'k>, &'k dyn ValueView)> + 'k> {
        Box::new(
            self.fields()
                .iter()
                .map(|(n, v)| (KStringCow::from_ref(n), v.view())),
        )
    }
    fn contains_key(&self, _index: &str) -> bool {
        true
    }
    fn get<'s>(&'s self, index: &str) -> Option<&'s dyn ValueView> {
        match self.field(index) {
            Some(v) => Some(v),
            // liquid answers `size` itself when an object has no such field.
            None if index == "size" => None,
            None => Some(&MISSING),
        }
    }
}
