//! Butane reference cases: where they are, and comparing two Ignition configs by meaning.
//!
//! Two sets exist. The repository's own cases (`tests/compat/butane/`) are always there, so a
//! fresh clone checks them. The larger corpus in the shared folder beside the checkout
//! (`../shared/compat/butane/`) is an extra check where it exists; under CI its absence is a
//! failure, elsewhere a note says it was not checked.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde_json::{Map, Value};

/// The repository's own reference cases, recorded with Butane v0.29.0.
pub fn own_cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/compat/butane")
}

/// The shared corpus folder (with `cases/` and `files-dir/`), when it is there.
///
/// Under CI (`CI` set) a missing corpus panics: CI must check it. Elsewhere the missing corpus
/// is reported on stderr, written directly so `cargo test` shows it even for a passing test,
/// and the caller checks nothing from it.
pub fn shared_corpus(test: &str) -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/compat/butane");
    if dir.join("cases").is_dir() {
        return Some(dir);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{test}: the shared Butane corpus {} is absent, and CI is set, so it must be checked",
        dir.display()
    );
    note(&format!(
        "{test}: the shared Butane corpus {} is absent; it was NOT checked (only the \
         repository's own cases were)",
        dir.display()
    ));
    None
}

/// Says what a test checked, on stderr directly, so it shows in an ordinary `cargo test` run.
pub fn note(text: &str) {
    let _ = writeln!(std::io::stderr(), "NOTE {text}");
}

/// The `.bu` files in a folder, sorted.
pub fn cases_in(dir: &Path) -> Vec<PathBuf> {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let mut cases: Vec<PathBuf> = entries
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "bu"))
        .collect();
    cases.sort();
    cases
}

/// The differences between two Ignition configs, ignoring what does not change their meaning:
/// the encoding of a `data:` URL (percent, base64, gzip with `compression: gzip`) and keys
/// whose value is `""`, `null`, `[]` or `{}`. Each difference names its JSON path.
pub fn differences(expected: &Value, actual: &Value) -> Vec<String> {
    let mut out = Vec::new();
    diff(&normalize(expected), &normalize(actual), "$", &mut out);
    out
}

fn normalize(node: &Value) -> Value {
    match node {
        Value::Object(map) => {
            let mut map = map.clone();
            if let Some(Value::String(src)) = map.get("source") {
                if let Some(rest) = src.strip_prefix("data:") {
                    let gzip = map.get("compression").and_then(Value::as_str) == Some("gzip");
                    let decoded = decode_data_url(rest, gzip);
                    map.insert("source".into(), decoded);
                    map.remove("compression");
                }
            }
            let mut out = Map::new();
            for (key, value) in &map {
                let value = normalize(value);
                if !is_empty(&value) {
                    out.insert(key.clone(), value);
                }
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(normalize).collect()),
        other => other.clone(),
    }
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

/// The bytes a `data:` URL (without its scheme) carries, as `{"data": text}` or, for bytes
/// that are not UTF-8, `{"data-base64": …}`; a URL that cannot be decoded stays as it was, so
/// it compares unequal to anything but itself.
fn decode_data_url(rest: &str, gzip: bool) -> Value {
    let Some((head, data)) = rest.split_once(',') else {
        return Value::String(format!("data:{rest}"));
    };
    let raw = if head.ends_with(";base64") {
        match base64::engine::general_purpose::STANDARD.decode(data) {
            Ok(raw) => raw,
            Err(_) => return Value::String(format!("data:{rest}")),
        }
    } else {
        percent_decode(data)
    };
    let raw = if gzip {
        let mut out = Vec::new();
        match flate2::read::GzDecoder::new(raw.as_slice()).read_to_end(&mut out) {
            Ok(_) => out,
            Err(_) => return Value::String(format!("data:{rest}")),
        }
    } else {
        raw
    };
    let mut map = Map::new();
    match String::from_utf8(raw) {
        Ok(text) => map.insert("data".into(), Value::String(text)),
        Err(e) => map.insert(
            "data-base64".into(),
            Value::String(base64::engine::general_purpose::STANDARD.encode(e.into_bytes())),
        ),
    };
    Value::Object(map)
}

fn percent_decode(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    out
}

fn diff(a: &Value, b: &Value, path: &str, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Object(a), Value::Object(b)) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            for key in keys {
                let here = format!("{path}.{key}");
                match (a.get(key), b.get(key)) {
                    (Some(x), Some(y)) => diff(x, y, &here, out),
                    (Some(x), None) => out.push(format!("{here}: missing (expected {})", short(x))),
                    (None, Some(y)) => out.push(format!("{here}: unexpected {}", short(y))),
                    (None, None) => {}
                }
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            if a.len() != b.len() {
                out.push(format!(
                    "{path}: {} entries expected, {} found",
                    a.len(),
                    b.len()
                ));
            }
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                diff(x, y, &format!("{path}.{i}"), out);
            }
        }
        _ if a != b => out.push(format!("{path}: expected {}, found {}", short(a), short(b))),
        _ => {}
    }
}

fn short(value: &Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(120) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

/// The place of each `--raw-errors` finding of one kind (`"error"` or `"warning"`): the text
/// before the message, `KIND at $.path, line L col C`, sorted. Messages are left out on
/// purpose: flint words its findings from its own catalogue, while the place says whether
/// both tools found the same problem.
pub fn finding_places(stderr: &str, kind: &str) -> Vec<String> {
    let prefix = format!("{kind} at ");
    let mut places: Vec<String> = stderr
        .lines()
        .filter(|l| l.starts_with(&prefix))
        .filter_map(|l| l.split_once(": ").map(|(place, _)| place.to_owned()))
        .collect();
    places.sort();
    places.dedup();
    places
}
