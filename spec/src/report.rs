//! Validation reports: errors, warnings and notes, each tied to a JSON path and a source position.

use std::fmt;

use crate::path::JsonPath;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Error,
    Warning,
    Info,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Error => "error",
            Kind::Warning => "warning",
            Kind::Info => "info",
        })
    }
}

/// Line and column (both 1-based, column counted in characters) of a node in the source text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub kind: Kind,
    pub path: JsonPath,
    /// The entry is about the key itself (an unused key), not its value.
    pub on_key: bool,
    pub position: Option<Position>,
    pub message: String,
}

impl fmt::Display for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at {}", self.kind, self.path)?;
        if let Some(pos) = self.position {
            write!(f, ", line {} col {}", pos.line, pos.column)?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Everything validation found, in the order it was found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub entries: Vec<Entry>,
}

impl Report {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn error(&mut self, path: JsonPath, message: impl Into<String>) {
        self.push(Kind::Error, path, message);
    }

    pub fn warning(&mut self, path: JsonPath, message: impl Into<String>) {
        self.push(Kind::Warning, path, message);
    }

    pub fn info(&mut self, path: JsonPath, message: impl Into<String>) {
        self.push(Kind::Info, path, message);
    }

    pub fn push(&mut self, kind: Kind, path: JsonPath, message: impl Into<String>) {
        self.entries.push(Entry {
            kind,
            path,
            on_key: false,
            position: None,
            message: message.into(),
        });
    }

    /// A warning about a key, such as an unused one; its position is the key's.
    pub fn key_warning(&mut self, path: JsonPath, message: impl Into<String>) {
        self.push(Kind::Warning, path, message);
        if let Some(e) = self.entries.last_mut() {
            e.on_key = true;
        }
    }

    pub fn merge(&mut self, other: Report) {
        self.entries.extend(other.entries);
    }

    pub fn is_fatal(&self) -> bool {
        self.entries.iter().any(|e| e.kind == Kind::Error)
    }

    pub fn has_warnings(&self) -> bool {
        self.entries.iter().any(|e| e.kind == Kind::Warning)
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Turns every warning into an error, for strict mode.
    pub fn make_strict(&mut self) {
        for e in &mut self.entries {
            if e.kind == Kind::Warning {
                e.kind = Kind::Error;
            }
        }
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for e in &self.entries {
            writeln!(f, "{e}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_uses_ignition_validate_format() {
        let mut r = Report::new();
        r.error(
            JsonPath::parse("$.storage.files.0.path"),
            "path not absolute",
        );
        r.entries[0].position = Some(Position {
            line: 5,
            column: 12,
        });
        assert_eq!(
            r.to_string(),
            "error at $.storage.files.0.path, line 5 col 12: path not absolute\n"
        );
    }

    #[test]
    fn strict_mode_turns_warnings_into_errors() {
        let mut r = Report::new();
        r.warning(JsonPath::root().key("x"), "unused key x");
        assert!(!r.is_fatal());
        r.make_strict();
        assert!(r.is_fatal());
    }
}
