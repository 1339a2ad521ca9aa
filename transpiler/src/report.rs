//! Diagnostics: errors, warnings and notes, each tied to a YAML path and, when the source
//! has one, a line and column.

use std::fmt;

use kindling_spec::path::JsonPath;
pub use kindling_spec::Kind;

use crate::tree::{OriginId, Origins};
use crate::yaml::Pos;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub kind: Kind,
    /// The path in the YAML source, such as `$.storage.files.0.mode`.
    pub path: JsonPath,
    pub pos: Option<Pos>,
    pub message: String,
}

impl fmt::Display for Entry {
    /// Butane's raw form: `error at $.path, line L col C: message`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at {}", self.kind, self.path)?;
        if let Some(p) = self.pos {
            write!(f, ", line {} col {}", p.line, p.col)?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Everything found, in the order it was found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub entries: Vec<Entry>,
}

impl Report {
    pub fn push(
        &mut self,
        kind: Kind,
        path: JsonPath,
        pos: Option<Pos>,
        message: impl Into<String>,
    ) {
        self.entries.push(Entry {
            kind,
            path,
            pos,
            message: message.into(),
        });
    }

    pub fn has_errors(&self) -> bool {
        self.entries.iter().any(|e| e.kind == Kind::Error)
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether an error was already reported on this path, an ancestor of it or a
    /// descendant of it: a later phase's finding there is likely a consequence.
    pub fn has_error_near(&self, path: &JsonPath) -> bool {
        let p = path.segments();
        self.entries
            .iter()
            .filter(|e| e.kind == Kind::Error)
            .any(|e| {
                let q = e.path.segments();
                let n = p.len().min(q.len());
                p[..n] == q[..n]
            })
    }
}

/// A report that knows the source positions, for the phases that work on the value tree.
#[derive(Debug)]
pub struct Diag {
    pub origins: Origins,
    pub report: Report,
}

impl Diag {
    pub fn new(origins: Origins) -> Self {
        Diag {
            origins,
            report: Report::default(),
        }
    }

    pub fn add(&mut self, kind: Kind, origin: OriginId, message: impl Into<String>) {
        let path = self.origins.path(origin);
        let pos = self.origins.pos(origin);
        self.report.push(kind, path, pos, message);
    }

    pub fn error(&mut self, origin: OriginId, message: impl Into<String>) {
        self.add(Kind::Error, origin, message);
    }

    pub fn warning(&mut self, origin: OriginId, message: impl Into<String>) {
        self.add(Kind::Warning, origin, message);
    }

    /// An entry about a field of `origin` that may be missing from the source: the path
    /// names the field, the position is the object's.
    pub fn add_on_field(
        &mut self,
        kind: Kind,
        origin: OriginId,
        field: &str,
        message: impl Into<String>,
    ) {
        let path = self.origins.path(origin).key(field);
        let pos = self.origins.pos(origin);
        self.report.push(kind, path, pos, message);
    }
}
