//! Turning raw config bytes into a JSON tree: size limit, UTF-8, syntax, duplicate keys.

use std::fmt;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::report::Position;

/// The largest config Kindling accepts, in bytes. Larger input is refused before parsing,
/// which keeps memory bounded whatever the source hands us.
pub const MAX_CONFIG_BYTES: usize = 64 * 1024 * 1024;

/// How deeply objects and lists may nest (serde_json's recursion limit). Real configs nest
/// fewer than ten levels; the limit keeps hostile input from exhausting the stack.
pub const MAX_NESTING: usize = 128;

/// Why bytes could not be read as a JSON document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SourceError {
    #[error("config is empty: provide a JSON object with at least {{\"ignition\": {{\"version\": \"3.6.0\"}}}}")]
    Empty,
    #[error("config is larger than the limit of {limit} bytes ({size} bytes read): move large contents to remote resources referenced by URL")]
    TooLarge { size: usize, limit: usize },
    #[error("config is not valid UTF-8 (byte offset {offset}): save it as UTF-8 text")]
    InvalidUtf8 { offset: usize, position: Position },
    #[error("invalid JSON: {message}")]
    Syntax {
        message: String,
        position: Option<Position>,
    },
    #[error("config must be a JSON object, found {0}")]
    NotAnObject(&'static str),
}

impl SourceError {
    pub fn position(&self) -> Option<Position> {
        match self {
            SourceError::InvalidUtf8 { position, .. } => Some(*position),
            SourceError::Syntax { position, .. } => *position,
            _ => None,
        }
    }
}

/// Parses config bytes into a JSON value, refusing duplicate object keys.
pub fn parse(input: &[u8]) -> Result<Value, SourceError> {
    if input.len() > MAX_CONFIG_BYTES {
        return Err(SourceError::TooLarge {
            size: input.len(),
            limit: MAX_CONFIG_BYTES,
        });
    }
    let text = std::str::from_utf8(input).map_err(|e| {
        let offset = e.valid_up_to();
        SourceError::InvalidUtf8 {
            offset,
            position: position_of_offset(&String::from_utf8_lossy(&input[..offset]), offset),
        }
    })?;
    if text.trim().is_empty() {
        return Err(SourceError::Empty);
    }
    let mut de = serde_json::Deserializer::from_str(text);
    let value = de::Deserialize::deserialize(&mut de)
        .map(|StrictValue(v)| v)
        .and_then(|v| de.end().map(|()| v))
        .map_err(|e| {
            let position = (e.line() > 0).then(|| Position {
                line: e.line(),
                column: e.column(),
            });
            // serde_json appends " at line L column C"; we carry the position separately.
            let message = e.to_string();
            let message = match message.rfind(" at line ") {
                Some(i) => message[..i].to_owned(),
                None => message,
            };
            let message = if message == "recursion limit exceeded" {
                format!("nesting deeper than {MAX_NESTING} levels")
            } else if let Some(hint) = crate::messages::looks_like_yaml(text) {
                format!("{message}; {hint}")
            } else {
                message
            };
            SourceError::Syntax { message, position }
        })?;
    match value {
        Value::Object(_) => Ok(value),
        Value::Array(_) => Err(SourceError::NotAnObject("a list")),
        Value::String(_) => Err(SourceError::NotAnObject("a string")),
        Value::Number(_) => Err(SourceError::NotAnObject("a number")),
        Value::Bool(_) => Err(SourceError::NotAnObject("a boolean")),
        Value::Null => Err(SourceError::NotAnObject("null")),
    }
}

/// 1-based line and character column of a byte offset in `text`.
pub fn position_of_offset(text: &str, offset: usize) -> Position {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    Position {
        line,
        column: before[line_start..].chars().count() + 1,
    }
}

/// A JSON value whose objects may not repeat a key. serde_json would silently keep the last
/// one, which hides mistakes such as two `contents` on one file.
struct StrictValue(Value);

impl<'de> de::Deserialize<'de> for StrictValue {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        de.deserialize_any(ValueVisitor).map(StrictValue)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(StrictValue(v)) = seq.next_element()? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                return Err(de::Error::custom(format_args!(
                    "duplicate key {key:?} in one object: keep only one"
                )));
            }
            let StrictValue(value) = map.next_value()?;
            out.insert(key, value);
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn syntax(input: &str) -> (String, Option<Position>) {
        match parse(input.as_bytes()) {
            Err(SourceError::Syntax { message, position }) => (message, position),
            other => panic!("expected a syntax error, got {other:?}"),
        }
    }

    #[test]
    fn empty_and_blank_inputs_are_empty() {
        assert_eq!(parse(b""), Err(SourceError::Empty));
        assert_eq!(parse(b" \n\t"), Err(SourceError::Empty));
    }

    #[test]
    fn malformed_json_reports_line_and_column() {
        let (msg, pos) = syntax("{\n  \"ignition\": {\n    \"version\": \"3.4.0\",\n  }\n}");
        assert!(msg.contains("trailing comma"), "{msg}");
        assert_eq!(pos, Some(Position { line: 4, column: 3 }));
    }

    #[test]
    fn duplicate_keys_are_refused_with_position() {
        let (msg, pos) = syntax("{\"a\": 1,\n \"a\": 2}");
        assert!(msg.contains("duplicate key \"a\""), "{msg}");
        assert_eq!(pos.map(|p| p.line), Some(2));
    }

    #[test]
    fn deep_nesting_is_refused_without_overflowing_the_stack() {
        let deep = "[".repeat(10_000) + &"]".repeat(10_000);
        let (msg, _) = syntax(&format!("{{\"a\": {deep}}}"));
        assert!(
            msg.contains("nesting") || msg.contains("recursion"),
            "{msg}"
        );
    }

    #[test]
    fn invalid_utf8_names_the_offset() {
        let input = b"{\n\"a\": \"\xff\"}";
        match parse(input) {
            Err(SourceError::InvalidUtf8 { offset, position }) => {
                assert_eq!(offset, 8);
                assert_eq!(position, Position { line: 2, column: 7 });
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn oversized_input_is_refused_before_parsing() {
        let big = vec![b' '; MAX_CONFIG_BYTES + 1];
        assert!(matches!(parse(&big), Err(SourceError::TooLarge { .. })));
    }

    #[test]
    fn non_objects_are_refused() {
        assert_eq!(parse(b"[]"), Err(SourceError::NotAnObject("a list")));
        assert_eq!(parse(b"null"), Err(SourceError::NotAnObject("null")));
    }

    #[test]
    fn trailing_garbage_is_refused() {
        let (msg, _) = syntax("{} {}");
        assert!(msg.contains("trailing"), "{msg}");
    }
}
