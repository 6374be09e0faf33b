//! Configuration errors that say where they are, what was found and what is accepted.

use std::fmt;

/// Where in the configuration a problem is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Location {
    /// The file, when the configuration came from one.
    pub file: Option<String>,
    /// The API definition's `api_id`, when the handler belongs to an API.
    pub api_id: Option<String>,
    /// The event the handler is attached to.
    pub event: Option<String>,
    /// The handler's position in its event's list (from 0).
    pub handler: Option<usize>,
    /// The field, as a path (`handler_meta.method`).
    pub field: Option<String>,
}

impl Location {
    /// A location in `file`.
    pub fn file(file: impl Into<String>) -> Location {
        Location {
            file: Some(file.into()),
            ..Location::default()
        }
    }

    /// The same location, in the API `api_id`.
    pub fn api(mut self, api_id: impl Into<String>) -> Location {
        self.api_id = Some(api_id.into());
        self
    }

    /// The same location, at `event`.
    pub fn event(mut self, event: impl Into<String>) -> Location {
        self.event = Some(event.into());
        self
    }

    /// The same location, at handler `index`.
    pub fn handler(mut self, index: usize) -> Location {
        self.handler = Some(index);
        self
    }

    /// The same location, at `field`.
    pub fn field(mut self, field: impl Into<String>) -> Location {
        self.field = Some(field.into());
        self
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts: Vec<String> = Vec::new();
        if let Some(file) = &self.file {
            parts.push(file.clone());
        }
        if let Some(api) = &self.api_id {
            parts.push(format!("API {api:?}"));
        }
        if let Some(event) = &self.event {
            parts.push(format!("event {event:?}"));
        }
        if let Some(i) = self.handler {
            parts.push(format!("handler #{i}"));
        }
        if let Some(field) = &self.field {
            parts.push(format!("field `{field}`"));
        }
        if parts.is_empty() {
            parts.push("configuration".into());
        }
        f.write_str(&parts.join(", "))
    }
}

/// One thing wrong with a configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{location}: {found}; {expected}")]
pub struct ConfigError {
    /// Where it is.
    pub location: Location,
    /// What was found there (`found "FETCH"`).
    pub found: String,
    /// What would be accepted (`expected one of GET, PUT, POST, PATCH, DELETE`).
    pub expected: String,
}

impl ConfigError {
    /// An error at `location`.
    pub fn new(
        location: Location,
        found: impl Into<String>,
        expected: impl Into<String>,
    ) -> ConfigError {
        ConfigError {
            location,
            found: found.into(),
            expected: expected.into(),
        }
    }
}

/// Everything wrong with a configuration, so that an operator can fix it all at once.
#[derive(Debug, Clone, Default, PartialEq, Eq, thiserror::Error)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl ConfigErrors {
    /// Adds one error.
    pub fn push(&mut self, e: ConfigError) {
        self.0.push(e);
    }

    /// Adds all of `other`.
    pub fn extend(&mut self, other: ConfigErrors) {
        self.0.extend(other.0);
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The errors.
    pub fn iter(&self) -> std::slice::Iter<'_, ConfigError> {
        self.0.iter()
    }

    /// The value of `result`; when it failed, its errors are added here and the value is
    /// `T::default()`, so that reading can go on and report everything at once.
    pub fn take<T: Default>(&mut self, result: Result<T, ConfigErrors>) -> T {
        result.unwrap_or_else(|e| {
            self.extend(e);
            T::default()
        })
    }

    /// `Ok(value)` when there is no error, otherwise the errors.
    pub fn into_result<T>(self, value: T) -> Result<T, ConfigErrors> {
        if self.is_empty() {
            Ok(value)
        } else {
            Err(self)
        }
    }
}

impl From<ConfigError> for ConfigErrors {
    fn from(e: ConfigError) -> Self {
        ConfigErrors(vec![e])
    }
}

impl IntoIterator for ConfigErrors {
    type Item = ConfigError;
    type IntoIter = std::vec::IntoIter<ConfigError>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

/// A JSON value described for an error message: `the number 123`, `the string "x"`.
pub fn describe(value: &serde_json::Value) -> String {
    use serde_json::Value;
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) => format!("the string {s:?}"),
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "an object".into(),
    }
}

/// Parses JSON text; a syntax error names the file, line and column.
pub fn parse_json(text: &str, file: &str) -> Result<serde_json::Value, ConfigError> {
    serde_json::from_str(text).map_err(|e| {
        let what = e.to_string();
        let what = what
            .rsplit_once(" at line ")
            .map_or(what.as_str(), |(w, _)| w);
        ConfigError::new(
            Location::file(format!("{file}:{}:{}", e.line(), e.column())),
            format!("malformed JSON ({what})"),
            "expected a valid JSON document (check for a missing brace, bracket or comma near that line)",
        )
    })
}

/// What is wrong with one value, before it is placed: what was found and what is accepted.
/// The file reader locates it by the field it read; the builder by the method it was given to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Problem {
    pub(crate) found: String,
    pub(crate) expected: String,
}

impl Problem {
    pub(crate) fn new(found: impl Into<String>, expected: impl Into<String>) -> Problem {
        Problem {
            found: found.into(),
            expected: expected.into(),
        }
    }

    /// The error at `location`.
    pub(crate) fn at(self, location: Location) -> ConfigError {
        ConfigError {
            location,
            found: self.found,
            expected: self.expected,
        }
    }
}
