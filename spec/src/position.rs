//! Finding where a JSON path sits in the source text, so reports can say "line L col C".
//!
//! This only runs when there is something to report: a valid config never pays for it.

use jsonc_parser::ast::{ObjectPropName, Value as Node};
use jsonc_parser::{CollectOptions, ParseOptions};

use crate::path::{JsonPath, Segment};
use crate::report::{Position, Report};
use crate::source::position_of_offset;

/// Fills in the position of every entry whose path can be found in `text`.
///
/// An entry about a key points at the key's value; an entry whose path no longer exists
/// (because a parent is missing) points at the deepest parent that does.
pub fn locate(text: &str, report: &mut Report) {
    if report.entries.iter().all(|e| e.position.is_some()) {
        return;
    }
    let options = ParseOptions {
        allow_comments: false,
        allow_loose_object_property_names: false,
        allow_trailing_commas: false,
        allow_missing_commas: false,
        allow_single_quoted_strings: false,
        allow_hexadecimal_numbers: false,
        allow_unary_plus_numbers: false,
        allow_bare_decimal_point_numbers: false,
        allow_non_finite_numbers: false,
        allow_extended_string_escapes: false,
    };
    let Ok(parsed) = jsonc_parser::parse_to_ast(text, &CollectOptions::default(), &options) else {
        return;
    };
    let Some(root) = parsed.value.as_ref() else {
        return;
    };
    let mut index = LineIndex::new(text);
    for entry in report.entries.iter_mut().filter(|e| e.position.is_none()) {
        let offset = find(root, &entry.path, entry.on_key);
        entry.position = Some(index.position(text, offset));
    }
}

fn find(root: &Node<'_>, path: &JsonPath, on_key: bool) -> usize {
    let mut node = root;
    let last = path.segments().len().saturating_sub(1);
    for (depth, seg) in path.segments().iter().enumerate() {
        let next = match (seg, node) {
            (Segment::Key(k), Node::Object(obj)) => {
                let prop = obj
                    .properties
                    .iter()
                    .find(|p| prop_name(&p.name) == k.as_str());
                if let Some(p) = prop.filter(|_| on_key && depth == last) {
                    return p.range.start;
                }
                prop.map(|p| &p.value)
            }
            (Segment::Index(i), Node::Array(arr)) => arr.elements.get(*i),
            _ => None,
        };
        match next {
            Some(n) => node = n,
            None => break,
        }
    }
    node_start(node)
}

fn prop_name<'a>(name: &'a ObjectPropName<'_>) -> &'a str {
    match name {
        ObjectPropName::String(s) => &s.value,
        ObjectPropName::Word(w) => w.value,
    }
}

fn node_start(node: &Node<'_>) -> usize {
    use jsonc_parser::common::Ranged;
    node.range().start
}

/// Maps byte offsets to positions. Offsets are asked for roughly in order, so it keeps the
/// line starts computed once.
struct LineIndex {
    line_starts: Vec<usize>,
}

impl LineIndex {
    fn new(text: &str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Self { line_starts }
    }

    fn position(&mut self, text: &str, offset: usize) -> Position {
        let line = self.line_starts.partition_point(|&s| s <= offset);
        let start = self.line_starts[line - 1];
        if offset - start > 4096 {
            // Very long lines (minified configs): counting characters is still exact.
            return position_of_offset(text, offset);
        }
        Position {
            line,
            column: text[start..offset].chars().count() + 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_nested_values() {
        let text =
            "{\n  \"storage\": {\n    \"files\": [\n      {\"path\": \"rel\"}\n    ]\n  }\n}";
        let mut r = Report::new();
        r.error(
            JsonPath::parse("$.storage.files.0.path"),
            "path not absolute",
        );
        locate(text, &mut r);
        assert_eq!(
            r.entries[0].position,
            Some(Position {
                line: 4,
                column: 16
            })
        );
    }

    #[test]
    fn missing_paths_point_at_the_deepest_parent() {
        let text = "{\"storage\": {\"files\": [{}]}}";
        let mut r = Report::new();
        r.error(
            JsonPath::parse("$.storage.files.0.path"),
            "path not absolute",
        );
        locate(text, &mut r);
        assert_eq!(
            r.entries[0].position,
            Some(Position {
                line: 1,
                column: 24
            })
        );
    }
}
