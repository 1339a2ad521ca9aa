//! JSON paths in the `$.storage.files.0.path` form that ignition-validate prints.

use std::fmt;

/// One step of a path: an object key or a list index.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Segment {
    Key(String),
    Index(usize),
}

impl From<&str> for Segment {
    fn from(key: &str) -> Self {
        Segment::Key(key.to_owned())
    }
}

impl From<usize> for Segment {
    fn from(index: usize) -> Self {
        Segment::Index(index)
    }
}

/// Builds a [`JsonPath`] from keys and indexes: `jp!("storage", "files", 3, "path")`.
#[macro_export]
macro_rules! jp {
    ($($seg:expr),* $(,)?) => {{
        #[allow(unused_mut)]
        let mut path = $crate::path::JsonPath::root();
        $( path.push($crate::path::Segment::from($seg)); )*
        path
    }};
}

/// A `$`-rooted path into a JSON document.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JsonPath(Vec<Segment>);

impl JsonPath {
    pub fn root() -> Self {
        Self(Vec::new())
    }

    /// Builds a path from dotted segments; numeric segments become list indexes.
    pub fn parse(dotted: &str) -> Self {
        let mut path = Self::root();
        for part in dotted
            .trim_start_matches('$')
            .split('.')
            .filter(|p| !p.is_empty())
        {
            match part.parse::<usize>() {
                Ok(i) => path.0.push(Segment::Index(i)),
                Err(_) => path.0.push(Segment::Key(part.to_owned())),
            }
        }
        path
    }

    pub fn key(&self, key: &str) -> Self {
        let mut next = self.clone();
        next.0.push(Segment::Key(key.to_owned()));
        next
    }

    pub fn index(&self, index: usize) -> Self {
        let mut next = self.clone();
        next.0.push(Segment::Index(index));
        next
    }

    /// This path with more segments appended.
    pub fn join(&self, more: &JsonPath) -> Self {
        let mut next = self.clone();
        next.0.extend(more.0.iter().cloned());
        next
    }

    pub fn push(&mut self, segment: Segment) {
        self.0.push(segment);
    }

    pub fn pop(&mut self) -> Option<Segment> {
        self.0.pop()
    }

    pub fn segments(&self) -> &[Segment] {
        &self.0
    }

    /// The last key of the path, if the path ends in a key.
    pub fn last_key(&self) -> Option<&str> {
        match self.0.last() {
            Some(Segment::Key(k)) => Some(k),
            _ => None,
        }
    }
}

impl fmt::Display for JsonPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("$")?;
        for seg in &self.0 {
            match seg {
                Segment::Key(k) => write!(f, ".{k}")?,
                Segment::Index(i) => write!(f, ".{i}")?,
            }
        }
        Ok(())
    }
}

impl From<&serde_path_to_error::Path> for JsonPath {
    fn from(path: &serde_path_to_error::Path) -> Self {
        let mut out = JsonPath::root();
        for seg in path.iter() {
            match seg {
                serde_path_to_error::Segment::Seq { index } => out.push(Segment::Index(*index)),
                serde_path_to_error::Segment::Map { key } => out.push(Segment::Key(key.clone())),
                serde_path_to_error::Segment::Enum { variant } => {
                    out.push(Segment::Key(variant.clone()))
                }
                serde_path_to_error::Segment::Unknown => {}
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_dollar_rooted_dotted_form() {
        let p = JsonPath::root()
            .key("storage")
            .key("files")
            .index(3)
            .key("path");
        assert_eq!(p.to_string(), "$.storage.files.3.path");
        assert_eq!(JsonPath::root().to_string(), "$");
    }

    #[test]
    fn parse_round_trips() {
        let p = JsonPath::parse("$.passwd.users.0.name");
        assert_eq!(p.to_string(), "$.passwd.users.0.name");
        assert_eq!(p.last_key(), Some("name"));
    }
}
