//! Field-by-field checking of JSON documents against serde types, so that every wrong field is
//! reported (not only the first), each with its path, the value found and what is accepted.

use crate::error::{ConfigError, ConfigErrors, Location, describe};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// Checks each field of `obj` (except those in `skip`) by deserialising `T` from a document that
/// holds that field alone; `T` must be `#[serde(default)]`, so that an error can only come from
/// that field. `at` builds the location of a field from its path (`prefix` and the field name).
/// Each wrong field is added to `errors`: the value found, and what serde expected, in words.
pub fn check_fields<T: DeserializeOwned>(
    obj: &Map<String, Value>,
    prefix: &str,
    skip: &[&str],
    at: &dyn Fn(&str) -> Location,
    errors: &mut ConfigErrors,
) {
    for (name, value) in obj {
        if skip.contains(&name.as_str()) {
            continue;
        }
        let mut alone = Map::new();
        alone.insert(name.clone(), value.clone());
        if let Err(e) = serde_json::from_value::<T>(Value::Object(alone)) {
            errors.push(ConfigError::new(
                at(&format!("{prefix}{name}")),
                format!("found {}", describe(value)),
                expected_from_serde(&e.to_string()),
            ));
        }
    }
}

/// Turns serde's "invalid type: string \"x\", expected u16" into "expected a whole number from 0 to 65535".
pub(crate) fn expected_from_serde(message: &str) -> String {
    let message = message.split(" at line ").next().unwrap_or(message);
    let Some((_, expected)) = message.rsplit_once("expected ") else {
        return format!("expected a valid value ({message})");
    };
    let human = match expected {
        "u16" => "a whole number from 0 to 65535",
        "u32" | "u64" | "usize" => "a whole number, 0 or more",
        "i32" | "i64" => "a whole number",
        "f32" | "f64" => "a number",
        "a boolean" => "`true` or `false`",
        other => other,
    };
    if message.starts_with("unknown variant") {
        format!("expected one of {human}")
    } else {
        format!("expected {human}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_messages_become_readable() {
        let cases = [
            (
                "invalid type: string \"x\", expected u16 at line 1 column 3",
                "expected a whole number from 0 to 65535",
            ),
            (
                "invalid type: number, expected a string",
                "expected a string",
            ),
            (
                "unknown variant `mongo`, expected `memory` or `redis`",
                "expected one of `memory` or `redis`",
            ),
            (
                "invalid value: integer `70000`, expected u16",
                "expected a whole number from 0 to 65535",
            ),
        ];
        for (serde, want) in cases {
            assert_eq!(expected_from_serde(serde), want, "{serde}");
        }
    }
}
