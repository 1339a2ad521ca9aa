//! YAML with positions. The text is loaded through saphyr's marked node API (scalars kept
//! as written, so that `0644` can be read as YAML 1.1 octal the way Butane's decoder reads
//! it), then copied into a small owned tree where every value and every key carries its
//! line and column.
//!
//! Multi-document streams are refused (Butane silently reads the first document only), merge
//! keys (`<<`) are expanded as YAML 1.1 defines them, and keys that repeat within one mapping
//! are errors.

use std::fmt;

use saphyr::{MarkedYaml, ScalarStyle, Tag, YamlData, YamlLoader};
use saphyr_parser::{Event, Parser, Span, SpannedEventReceiver};

/// The largest input flint reads, in bytes: Kindling's own limit for a config
/// (`kindling_spec::source::MAX_CONFIG_BYTES`, 64 MiB). A bigger Butane file cannot be meant
/// for a first boot, and without a limit `flint /dev/zero` ran out of memory (issue 15,
/// defect 5).
pub const MAX_INPUT_BYTES: usize = kindling_spec::source::MAX_CONFIG_BYTES;

/// How deeply lists and mappings may nest. Real configs nest fewer than ten levels; deeper
/// nesting is refused while the text is read, before a tree is built (a million nested
/// `- ` once overflowed the stack when the tree was dropped).
pub const MAX_DEPTH: usize = 256;

/// How many nodes alias expansion (`*name`) may produce in all. Each alias copies its
/// anchor, so a few nested anchors can otherwise expand to billions of nodes ("billion
/// laughs"). Configs use aliases for a few shared snippets, far below this.
pub const MAX_ALIAS_NODES: usize = 100_000;

/// A 1-based line and column (columns counted in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Pos {
    pub line: u32,
    pub col: u32,
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.col)
    }
}

impl Pos {
    fn from_marker(m: &saphyr::Marker) -> Self {
        Pos {
            line: u32::try_from(m.line()).unwrap_or(u32::MAX),
            col: u32::try_from(m.col() + 1).unwrap_or(u32::MAX),
        }
    }
}

/// One node of the document.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub pos: Pos,
    pub kind: NodeKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    Scalar(Scalar),
    Seq(Vec<Node>),
    Map(Vec<Entry>),
}

/// A mapping entry: the key's text and position, and the value.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub key: String,
    pub key_pos: Pos,
    pub value: Node,
}

/// A scalar as written: its text, whether it was plain (unquoted, not a block scalar), and
/// its tag if it had one.
#[derive(Debug, Clone, PartialEq)]
pub struct Scalar {
    pub text: String,
    pub plain: bool,
    pub tag: Option<String>,
}

/// Why the text is not a usable YAML document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct YamlError {
    pub pos: Option<Pos>,
    pub message: String,
}

impl YamlError {
    fn at(pos: Pos, message: impl Into<String>) -> Self {
        YamlError {
            pos: Some(pos),
            message: message.into(),
        }
    }
}

/// Parses one YAML document. An empty stream is an empty mapping.
pub fn parse(text: &str) -> Result<Node, YamlError> {
    if text.len() > MAX_INPUT_BYTES {
        return Err(YamlError {
            pos: None,
            message: too_large(text.len()),
        });
    }
    let mut loader: YamlLoader<'_, MarkedYaml<'_>> = YamlLoader::default();
    loader.early_parse(false);
    loader.alias_limit(MAX_ALIAS_NODES);
    let mut bounded = Bounded {
        loader,
        depth: 0,
        too_deep: None,
    };
    // Events are pulled one by one rather than through `Parser::load`, which recurses once
    // per nesting level and overflowed the stack on ten thousand nested `- `.
    let mut parser = Parser::new_from_str(text);
    while let Some(event) = parser.next_event() {
        let (ev, span) = event.map_err(|e| scan_error(&e))?;
        bounded.on_event(ev, span);
        if let Some(span) = bounded.too_deep {
            return Err(YamlError::at(
                Pos::from_marker(&span.start),
                format!("lists and mappings nest deeper than the limit of {MAX_DEPTH} levels"),
            ));
        }
    }
    let loader = bounded.loader;
    if let Some(e) = loader.error() {
        return Err(scan_error(e));
    }
    let docs = loader.into_documents();
    // Empty documents (a stray `---` at the end) hold nothing that could be dropped.
    if let Some(extra) = docs.iter().skip(1).find(|d| !is_empty_doc(d)) {
        return Err(YamlError::at(
            Pos::from_marker(&extra.span.start),
            "multiple YAML documents in one file are not supported: a Butane config is a single document, so remove the `---` separator or split the file",
        ));
    }
    match docs.into_iter().next() {
        None => Ok(Node {
            pos: Pos { line: 1, col: 1 },
            kind: NodeKind::Map(Vec::new()),
        }),
        Some(doc) => convert(&doc, 0),
    }
}

/// A reader's error in our words, naming the limit when one was hit.
fn scan_error(e: &saphyr_parser::ScanError) -> YamlError {
    let info = e.info();
    let message = if info.contains("duplicated key") {
        "duplicate key in mapping: each key may appear only once".to_owned()
    } else if info.contains("recursion limit") {
        "flow lists and mappings ([...], {...}) nest deeper than 255 levels, the YAML reader's limit".to_owned()
    } else if info.contains("alias expansion") {
        format!("YAML aliases expand to more than the limit of {MAX_ALIAS_NODES} nodes (a \"billion laughs\" document?): write the repeated parts out, or use fewer nested aliases")
    } else {
        format!("invalid YAML: {info}")
    };
    YamlError::at(Pos::from_marker(e.marker()), message)
}

/// The message for input over [`MAX_INPUT_BYTES`].
pub fn too_large(size: usize) -> String {
    format!("the config is larger than flint's limit of {MAX_INPUT_BYTES} bytes ({size} bytes or more): Kindling refuses configs that large; move big contents into files referenced by URL")
}

/// Passes events to the loader until nesting passes [`MAX_DEPTH`], so that no tree deeper
/// than the limit is ever built.
struct Bounded<'input> {
    loader: YamlLoader<'input, MarkedYaml<'input>>,
    depth: usize,
    /// Where nesting first went past the limit.
    too_deep: Option<Span>,
}

impl<'input> SpannedEventReceiver<'input> for Bounded<'input> {
    fn on_event(&mut self, ev: Event<'input>, span: Span) {
        if self.too_deep.is_some() {
            return;
        }
        match ev {
            Event::SequenceStart(..) | Event::MappingStart(..) => {
                self.depth += 1;
                if self.depth > MAX_DEPTH {
                    self.too_deep = Some(span);
                    return;
                }
            }
            Event::SequenceEnd | Event::MappingEnd => self.depth = self.depth.saturating_sub(1),
            _ => {}
        }
        self.loader.on_event(ev, span);
    }
}

fn is_empty_doc(doc: &MarkedYaml<'_>) -> bool {
    match &doc.data {
        YamlData::BadValue => true,
        YamlData::Representation(text, ScalarStyle::Plain, None) => {
            matches!(text.as_ref(), "" | "~" | "null" | "Null" | "NULL")
        }
        _ => false,
    }
}

fn convert(node: &MarkedYaml<'_>, depth: usize) -> Result<Node, YamlError> {
    let pos = Pos::from_marker(&node.span.start);
    if depth > MAX_DEPTH {
        // Tags and merge keys add levels the reader above does not count.
        return Err(YamlError::at(
            pos,
            format!("lists and mappings nest deeper than the limit of {MAX_DEPTH} levels"),
        ));
    }
    let kind = match &node.data {
        YamlData::Representation(text, style, tag) => NodeKind::Scalar(Scalar {
            text: text.to_string(),
            plain: *style == ScalarStyle::Plain,
            tag: tag.as_deref().map(tag_name),
        }),
        YamlData::Value(v) => NodeKind::Scalar(Scalar {
            text: scalar_text(v),
            plain: true,
            tag: None,
        }),
        YamlData::Sequence(items) => NodeKind::Seq(
            items
                .iter()
                .map(|i| convert(i, depth + 1))
                .collect::<Result<_, _>>()?,
        ),
        YamlData::Mapping(map) => NodeKind::Map(convert_map(map, depth)?),
        // A custom tag on a collection changes nothing for us.
        YamlData::Tagged(_, inner) => return convert(inner, depth + 1),
        YamlData::Alias(_) | YamlData::BadValue => {
            return Err(YamlError::at(pos, "unknown alias or unreadable value"));
        }
    };
    Ok(Node { pos, kind })
}

fn convert_map(
    map: &saphyr::AnnotatedMapping<'_, MarkedYaml<'_>>,
    depth: usize,
) -> Result<Vec<Entry>, YamlError> {
    let mut explicit: Vec<Entry> = Vec::with_capacity(map.len());
    let mut merged: Vec<Entry> = Vec::new();
    for (k, v) in map {
        let key_pos = Pos::from_marker(&k.span.start);
        let key = match &k.data {
            YamlData::Representation(text, style, tag) => {
                if *style == ScalarStyle::Plain
                    && text == "<<"
                    && tag.as_deref().is_none_or(|t| tag_name(t) == "!!merge")
                {
                    merge_key(v, depth, &mut merged)?;
                    continue;
                }
                text.to_string()
            }
            YamlData::Value(s) => scalar_text(s),
            _ => {
                return Err(YamlError::at(
                    key_pos,
                    "mapping keys must be plain strings, not lists or mappings",
                ))
            }
        };
        if let Some(first) = explicit.iter().find(|e| e.key == key) {
            return Err(YamlError::at(
                key_pos,
                format!(
                    "duplicate key {key:?}: it was already defined at line {}",
                    first.key_pos.line
                ),
            ));
        }
        explicit.push(Entry {
            key,
            key_pos,
            value: convert(v, depth + 1)?,
        });
    }
    // Merged keys never override keys written in the mapping itself.
    for m in merged {
        if !explicit.iter().any(|e| e.key == m.key) {
            explicit.push(m);
        }
    }
    Ok(explicit)
}

/// Expands `<<: *alias` or `<<: [*a, *b]`; earlier mappings in a list win.
fn merge_key(value: &MarkedYaml<'_>, depth: usize, out: &mut Vec<Entry>) -> Result<(), YamlError> {
    let pos = Pos::from_marker(&value.span.start);
    let sources: Vec<&MarkedYaml<'_>> = match &value.data {
        YamlData::Mapping(_) => vec![value],
        YamlData::Sequence(items) => items.iter().collect(),
        _ => {
            return Err(YamlError::at(
                pos,
                "merge key `<<` needs a mapping or a list of mappings",
            ))
        }
    };
    for source in sources {
        let YamlData::Mapping(map) = &source.data else {
            return Err(YamlError::at(
                Pos::from_marker(&source.span.start),
                "merge key `<<` needs a mapping or a list of mappings",
            ));
        };
        for entry in convert_map(map, depth + 1)? {
            if !out.iter().any(|e| e.key == entry.key) {
                out.push(entry);
            }
        }
    }
    Ok(())
}

fn tag_name(tag: &Tag) -> String {
    if tag.handle == "tag:yaml.org,2002:" || tag.handle == "!!" {
        format!("!!{}", tag.suffix)
    } else {
        format!("{}{}", tag.handle, tag.suffix)
    }
}

fn scalar_text(v: &saphyr::Scalar<'_>) -> String {
    match v {
        saphyr::Scalar::Null => String::new(),
        saphyr::Scalar::Boolean(b) => b.to_string(),
        saphyr::Scalar::Integer(i) => i.to_string(),
        saphyr::Scalar::FloatingPoint(f) => f.to_string(),
        saphyr::Scalar::String(s) => s.to_string(),
    }
}

/// What a scalar means, resolved as Butane's YAML decoder (go-yaml v3) resolves plain
/// scalars: YAML 1.2 core types plus YAML 1.1 octal (`0644`) and `_` digit separators.
#[derive(Debug, Clone, PartialEq)]
pub enum Resolved {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str,
}

impl Scalar {
    pub fn resolve(&self) -> Resolved {
        match self.tag.as_deref() {
            Some("!!str") | Some("!!binary") => return Resolved::Str,
            Some("!!null") => return Resolved::Null,
            _ => {}
        }
        if !self.plain && self.tag.is_none() {
            return Resolved::Str;
        }
        let t = self.text.as_str();
        match t {
            "" | "~" | "null" | "Null" | "NULL" => return Resolved::Null,
            "true" | "True" | "TRUE" => return Resolved::Bool(true),
            "false" | "False" | "FALSE" => return Resolved::Bool(false),
            ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
                return Resolved::Float(f64::INFINITY)
            }
            "-.inf" | "-.Inf" | "-.INF" => return Resolved::Float(f64::NEG_INFINITY),
            ".nan" | ".NaN" | ".NAN" => return Resolved::Float(f64::NAN),
            _ => {}
        }
        if let Some(i) = parse_go_int(t) {
            return Resolved::Int(i);
        }
        if is_yaml_float(t) {
            if let Ok(f) = t.replace('_', "").parse::<f64>() {
                return Resolved::Float(f);
            }
        }
        Resolved::Str
    }

    /// The scalar as an integer, as it is read into an integer field (floats without a
    /// fraction, such as `08` or `1e3`, are accepted as Butane's decoder accepts them).
    pub fn as_int(&self) -> Option<i64> {
        match self.resolve() {
            Resolved::Int(i) => Some(i),
            Resolved::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e18 => Some(f as i64),
            _ => None,
        }
    }

    /// The scalar as a boolean; YAML 1.1 words (`yes`, `on`, …) count, as they do in Butane.
    pub fn as_bool(&self) -> Option<bool> {
        match self.resolve() {
            Resolved::Bool(b) => Some(b),
            Resolved::Str if self.plain || self.tag.is_none() => match self.text.as_str() {
                "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" => Some(true),
                "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" => Some(false),
                _ => None,
            },
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        self.resolve() == Resolved::Null
    }

    /// A short description of the scalar's type for error messages.
    pub fn describe(&self) -> String {
        let (kind, shown) = self.parts();
        format!("{kind} ({shown})")
    }

    /// What kind of value this is, and the value as shown in messages (quoted, cut at 40
    /// characters).
    pub fn parts(&self) -> (&'static str, String) {
        let kind = match self.resolve() {
            Resolved::Null => "null",
            Resolved::Bool(_) => "a boolean",
            Resolved::Int(_) => "an integer",
            Resolved::Float(_) => "a number with a fraction",
            Resolved::Str => "a string",
        };
        let mut shown: String = self.text.chars().take(40).collect();
        if shown.len() < self.text.len() {
            shown.push('…');
        }
        (kind, format!("{shown:?}"))
    }
}

/// Integers as Go's `strconv.ParseInt(s, 0, 64)` reads them after removing `_`: decimal,
/// `0x` hex, `0o`/leading-zero octal and `0b` binary, with an optional sign.
fn parse_go_int(text: &str) -> Option<i64> {
    let cleaned = text.replace('_', "");
    let (negative, digits) = match cleaned.as_bytes().first() {
        Some(b'-') => (true, &cleaned[1..]),
        Some(b'+') => (false, &cleaned[1..]),
        _ => (false, cleaned.as_str()),
    };
    if digits.is_empty() {
        return None;
    }
    let lower = digits.to_ascii_lowercase();
    let (radix, body) = if let Some(rest) = lower.strip_prefix("0x") {
        (16, rest.to_owned())
    } else if let Some(rest) = lower.strip_prefix("0o") {
        (8, rest.to_owned())
    } else if let Some(rest) = lower.strip_prefix("0b") {
        (2, rest.to_owned())
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, lower[1..].to_owned())
    } else {
        (10, lower)
    };
    if body.is_empty() || !body.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let magnitude = i128::from_str_radix(&body, radix).ok()?;
    let value = if negative { -magnitude } else { magnitude };
    i64::try_from(value).ok()
}

/// go-yaml's float pattern: `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`.
fn is_yaml_float(text: &str) -> bool {
    let t = text.replace('_', "");
    let t = t.strip_prefix(['-', '+']).unwrap_or(&t);
    let (mantissa, exponent) = match t.find(['e', 'E']) {
        Some(i) => (&t[..i], Some(&t[i + 1..])),
        None => (t, None),
    };
    let mantissa_ok = match mantissa.split_once('.') {
        Some(("", frac)) => !frac.is_empty() && frac.bytes().all(|b| b.is_ascii_digit()),
        Some((int, frac)) => {
            !int.is_empty()
                && int.bytes().all(|b| b.is_ascii_digit())
                && frac.bytes().all(|b| b.is_ascii_digit())
        }
        None => !mantissa.is_empty() && mantissa.bytes().all(|b| b.is_ascii_digit()),
    };
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit())
    });
    mantissa_ok && exponent_ok
}

impl Node {
    /// The value under `key` in a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.kind {
            NodeKind::Map(entries) => entries.iter().find(|e| e.key == key).map(|e| &e.value),
            _ => None,
        }
    }

    pub fn as_scalar(&self) -> Option<&Scalar> {
        match &self.kind {
            NodeKind::Scalar(s) => Some(s),
            _ => None,
        }
    }

    /// A short description of the node's type for error messages.
    pub fn describe(&self) -> String {
        match &self.kind {
            NodeKind::Scalar(s) => s.describe(),
            NodeKind::Seq(_) => "a list".to_owned(),
            NodeKind::Map(_) => "a mapping".to_owned(),
        }
    }

    /// The kind of the node, and a scalar's value as shown in messages.
    pub fn parts(&self) -> (&'static str, Option<String>) {
        match &self.kind {
            NodeKind::Scalar(s) => {
                let (kind, shown) = s.parts();
                (kind, Some(shown))
            }
            NodeKind::Seq(_) => ("a list", None),
            NodeKind::Map(_) => ("a mapping", None),
        }
    }

    /// The node as plain JSON, with scalars resolved as YAML 1.2 tools (editors) see them.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value;
        match &self.kind {
            NodeKind::Scalar(s) => match s.resolve() {
                Resolved::Null => Value::Null,
                Resolved::Bool(b) => Value::Bool(b),
                Resolved::Int(i) => Value::from(i),
                Resolved::Float(f) => {
                    serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)
                }
                Resolved::Str => Value::String(s.text.clone()),
            },
            NodeKind::Seq(items) => Value::Array(items.iter().map(Node::to_json).collect()),
            NodeKind::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|e| (e.key.clone(), e.value.to_json()))
                    .collect(),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scalar(doc: &str, key: &str) -> Scalar {
        let root = parse(doc).expect("parses");
        root.get(key)
            .and_then(Node::as_scalar)
            .cloned()
            .expect("scalar")
    }

    #[test]
    fn leading_zero_modes_read_as_octal() {
        assert_eq!(scalar("mode: 0644", "mode").as_int(), Some(420));
        assert_eq!(scalar("mode: 0o755", "mode").as_int(), Some(493));
        assert_eq!(scalar("mode: 420", "mode").as_int(), Some(420));
        assert_eq!(scalar("mode: 0x1a", "mode").as_int(), Some(26));
        assert_eq!(scalar("mode: 1_000", "mode").as_int(), Some(1000));
        assert_eq!(scalar("mode: 08", "mode").as_int(), Some(8));
        assert_eq!(scalar("mode: '0644'", "mode").as_int(), None);
        assert_eq!(scalar("mode: 1.5", "mode").as_int(), None);
    }

    #[test]
    fn yaml_1_1_booleans_are_accepted() {
        assert_eq!(scalar("a: yes", "a").as_bool(), Some(true));
        assert_eq!(scalar("a: Off", "a").as_bool(), Some(false));
        assert_eq!(scalar("a: true", "a").as_bool(), Some(true));
        assert_eq!(scalar("a: 'true'", "a").as_bool(), None);
    }

    #[test]
    fn positions_are_one_based() {
        let root = parse("a:\n  b: c\n").expect("parses");
        let NodeKind::Map(top) = &root.kind else {
            panic!("map")
        };
        assert_eq!(top[0].key_pos, Pos { line: 1, col: 1 });
        let b = root.get("a").expect("a");
        let NodeKind::Map(inner) = &b.kind else {
            panic!("map")
        };
        assert_eq!(inner[0].key_pos, Pos { line: 2, col: 3 });
        assert_eq!(inner[0].value.pos, Pos { line: 2, col: 6 });
    }

    #[test]
    fn second_document_is_refused() {
        let err = parse("a: 1\n---\nb: 2\n").expect_err("refused");
        assert!(err.message.contains("multiple YAML documents"));
        assert_eq!(err.pos.map(|p| p.line), Some(3));
        assert!(
            parse("a: 1\n---\n").is_ok(),
            "an empty trailing document is harmless"
        );
    }

    #[test]
    fn duplicate_keys_are_refused() {
        let err = parse("a: 1\nb: 2\na: 3\n").expect_err("refused");
        assert!(err.message.contains("duplicate key"), "{}", err.message);
        let err = parse("a: 1\n'a': 3\n").expect_err("refused");
        assert!(err.message.contains("already defined at line 1"));
    }

    #[test]
    fn merge_keys_are_expanded_and_explicit_keys_win() {
        let root = parse("base: &b {x: 1, y: 2}\nthing:\n  <<: *b\n  y: 3\n").expect("parses");
        let thing = root.get("thing").expect("thing");
        assert_eq!(
            thing
                .get("x")
                .and_then(Node::as_scalar)
                .map(|s| s.text.as_str()),
            Some("1")
        );
        assert_eq!(
            thing
                .get("y")
                .and_then(Node::as_scalar)
                .map(|s| s.text.as_str()),
            Some("3")
        );
    }

    #[test]
    fn syntax_errors_have_positions() {
        let err = parse("a: [1, 2\n").expect_err("bad");
        assert!(err.pos.is_some());
    }

    #[test]
    fn empty_input_is_an_empty_mapping() {
        assert_eq!(parse("").expect("ok").kind, NodeKind::Map(Vec::new()));
    }

    /// Issue 15, defect 5: nesting is refused while reading, before a tree is built; a
    /// million nested `- ` used to overflow the stack.
    #[test]
    fn deep_nesting_is_refused_at_the_limit() {
        let ok = format!("x:\n  {}y\n", "- ".repeat(MAX_DEPTH - 2));
        assert!(parse(&ok).is_ok());
        for n in [MAX_DEPTH + 1, 1_000_000] {
            let deep = format!("x:\n  {}y\n", "- ".repeat(n));
            let err = parse(&deep).expect_err("too deep");
            assert!(
                err.message
                    .contains("nest deeper than the limit of 256 levels"),
                "{err:?}"
            );
            assert_eq!(err.pos.map(|p| p.line), Some(2));
        }
        let flow = format!("x: {}{}\n", "[".repeat(100_000), "]".repeat(100_000));
        let err = parse(&flow).expect_err("too deep");
        assert!(
            err.message.contains("nest deeper than 255 levels"),
            "{err:?}"
        );
    }

    /// Issue 15, defect 5: each alias copies its anchor, so nine levels of ten aliases
    /// would be a billion nodes.
    #[test]
    fn alias_bombs_are_refused_naming_the_limit() {
        let mut doc = String::from("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        for i in 1..10 {
            let refs = vec![format!("*a{}", i - 1); 10].join(", ");
            doc.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
        }
        let err = parse(&doc).expect_err("bomb");
        assert!(
            err.message
                .contains("aliases expand to more than the limit of 100000 nodes"),
            "{err:?}"
        );
        // A few aliases, as configs use them, are fine.
        assert!(parse("base: &b {mode: 420}\nfile: *b\nother: *b\n").is_ok());
    }

    #[test]
    fn input_over_the_size_limit_is_refused_before_parsing() {
        let big = "#".repeat(MAX_INPUT_BYTES + 1);
        let err = parse(&big).expect_err("too large");
        assert!(
            err.message
                .contains("larger than flint's limit of 67108864 bytes"),
            "{err:?}"
        );
    }
}
