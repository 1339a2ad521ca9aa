//! Finding where a JSON path sits in the source text, so reports can say "line L col C".
//!
//! This only runs when there is something to report: a valid config never pays for it.

use std::borrow::Cow;
use std::collections::HashMap;

use jsonc_parser::ast::{Object, ObjectProp, ObjectPropName, Value as Node};
use jsonc_parser::{CollectOptions, ParseOptions};

use crate::path::{JsonPath, Segment};
use crate::report::{Position, Report};

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
    // Every lookup below is independent of how many entries there are: objects with many
    // keys get an index on first use, and positions are computed in one pass over the text
    // in offset order. Searching from the start for each entry made a config with 100k
    // unused keys on one line take quadratic time (issue 15, defect 4).
    let mut keys = KeyIndex::default();
    let mut wanted: Vec<(usize, usize)> = report
        .entries
        .iter()
        .enumerate()
        .filter(|(_, e)| e.position.is_none())
        .map(|(i, e)| (find(root, &e.path, e.on_key, &mut keys), i))
        .collect();
    wanted.sort_unstable();
    let mut cursor = Cursor::new(text);
    for (offset, i) in wanted {
        report.entries[i].position = Some(cursor.advance_to(offset));
    }
}

/// Property lookup by name for objects with many keys, built the first time an object is
/// searched. Small objects are searched in place.
#[derive(Default)]
struct KeyIndex<'a> {
    /// Keyed by the object's start offset, which identifies the node.
    objects: HashMap<usize, HashMap<Cow<'a, str>, usize>>,
}

/// Objects with at most this many keys are searched linearly; an index costs more.
const LINEAR_SEARCH_MAX: usize = 32;

impl<'a> KeyIndex<'a> {
    fn lookup<'n>(&mut self, obj: &'n Object<'a>, key: &str) -> Option<&'n ObjectProp<'a>> {
        if obj.properties.len() <= LINEAR_SEARCH_MAX {
            return obj.properties.iter().find(|p| prop_name(&p.name) == key);
        }
        let index = self.objects.entry(obj.range.start).or_insert_with(|| {
            let mut map = HashMap::with_capacity(obj.properties.len());
            for (i, p) in obj.properties.iter().enumerate() {
                // The first of repeated keys, as the linear search finds it.
                map.entry(prop_name_owned(&p.name)).or_insert(i);
            }
            map
        });
        index.get(key).map(|&i| &obj.properties[i])
    }
}

fn find<'a>(root: &Node<'a>, path: &JsonPath, on_key: bool, keys: &mut KeyIndex<'a>) -> usize {
    let mut node = root;
    let last = path.segments().len().saturating_sub(1);
    for (depth, seg) in path.segments().iter().enumerate() {
        let next = match (seg, node) {
            (Segment::Key(k), Node::Object(obj)) => {
                let prop = keys.lookup(obj, k.as_str());
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

/// The name as the index keeps it: borrowed from the text, or decoded when it has escapes.
fn prop_name_owned<'a>(name: &ObjectPropName<'a>) -> Cow<'a, str> {
    match name {
        ObjectPropName::String(s) => s.value.clone(),
        ObjectPropName::Word(w) => Cow::Borrowed(w.value),
    }
}

fn node_start(node: &Node<'_>) -> usize {
    use jsonc_parser::common::Ranged;
    node.range().start
}

/// Walks the text forward once, turning increasing byte offsets into line and column.
struct Cursor<'t> {
    text: &'t str,
    offset: usize,
    line: usize,
    column: usize,
}

impl<'t> Cursor<'t> {
    fn new(text: &'t str) -> Self {
        Self {
            text,
            offset: 0,
            line: 1,
            column: 1,
        }
    }

    /// The position of `offset`, which must not be smaller than the previous one.
    fn advance_to(&mut self, offset: usize) -> Position {
        let offset = offset.min(self.text.len());
        for c in self.text[self.offset..offset].chars() {
            if c == '\n' {
                self.line += 1;
                self.column = 1;
            } else {
                self.column += 1;
            }
        }
        self.offset = offset;
        Position {
            line: self.line,
            column: self.column,
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

    /// Issue 15, defect 4: a config with thousands of unused keys on one line. Every key
    /// must point at itself, with columns counted in characters (the values hold multibyte
    /// text), whatever order the entries come in.
    #[test]
    fn many_findings_on_one_long_line_point_at_their_keys() {
        let n = 5000;
        let mut text = String::from("{\"ignition\": {\"version\": \"3.6.0\"}");
        for i in 0..n {
            text.push_str(&format!(", \"k{i}\": \"é✓{i}\""));
        }
        text.push('}');
        let mut r = Report::new();
        // Reverse order, so that the walk cannot rely on the entries being sorted.
        for i in (0..n).rev() {
            r.key_warning(JsonPath::root().key(&format!("k{i}")), "unused");
        }
        locate(&text, &mut r);
        for (entry, i) in r.entries.iter().zip((0..n).rev()) {
            let offset = text.find(&format!("\"k{i}\"")).expect("key in text");
            let expected = Position {
                line: 1,
                column: text[..offset].chars().count() + 1,
            };
            assert_eq!(entry.position, Some(expected), "k{i}");
        }
    }

    #[test]
    fn findings_on_many_lines_and_escaped_keys_in_big_objects() {
        // More keys than the linear search handles, one with an escape in its name.
        let mut text = String::from("{\n");
        for i in 0..100 {
            text.push_str(&format!("  \"k{i}\": {i},\n"));
        }
        text.push_str("  \"tab\\tkey\": 1\n}");
        let mut r = Report::new();
        r.key_warning(JsonPath::root().key("tab\tkey"), "unused");
        r.key_warning(JsonPath::root().key("k99"), "unused");
        r.warning(JsonPath::root().key("k0"), "value");
        locate(&text, &mut r);
        let at = |line, column| Some(Position { line, column });
        assert_eq!(r.entries[0].position, at(102, 3));
        assert_eq!(r.entries[1].position, at(101, 3));
        assert_eq!(r.entries[2].position, at(2, 9));
    }
}
