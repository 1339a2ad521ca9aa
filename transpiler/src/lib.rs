//! flint: Butane-compatible YAML to Ignition JSON.
//!
//! ```
//! let yaml = b"variant: fcos\nversion: 1.5.0\nstorage:\n  files:\n    - path: /etc/motd\n      contents:\n        inline: hi\n";
//! let out = flint::transpile(yaml, &flint::Options::default());
//! assert!(out.json.expect("valid").contains("\"version\":\"3.4.0\""));
//! ```
//!
//! The phases: YAML with positions ([`yaml`]), the dialect's field table ([`schema`]),
//! decoding with unknown-key warnings ([`decode`]), Butane's source checks ([`checks`]),
//! desugaring ([`translate`], [`sugar`]), variant restrictions ([`filters`]), JSON output
//! ([`emit`]) and Ignition validation of that output mapped back to the YAML
//! ([`output_check`]). Every phase reports what it finds and the next one still runs where it
//! can, so one run shows every independent problem.
//!
//! Positions: every node of the value tree ([`tree::V`]) carries the id of the YAML node it
//! came from ([`tree::Origins`] holds that node's YAML path and line:col), through renaming,
//! desugaring and merging. That makes the tree itself the JSON-pointer → line:col map: a
//! finding about an output path is located by walking the path ([`output_check::add`]).

pub mod atomic;
pub mod checks;
pub mod cli;
pub mod data_url;
pub mod decode;
pub mod emit;
pub mod files_dir;
pub mod filters;
pub mod merge;
pub mod output_check;
pub mod render;
pub mod report;
pub mod schema;
pub mod sign;
pub mod sugar;
pub mod translate;
pub mod tree;
pub mod variant;
pub mod yaml;

use std::path::PathBuf;

use kindling_spec::path::JsonPath;
use kindling_spec::Kind;

use crate::files_dir::FilesDir;
use crate::report::{Diag, Report};
use crate::translate::Ctx;
use crate::tree::Origins;
use crate::variant::Dialect;
use crate::yaml::{Node, NodeKind};

/// How to translate.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The directory that `local` paths are relative to (`-d/--files-dir`).
    pub files_dir: Option<PathBuf>,
    /// Indent the JSON output.
    pub pretty: bool,
}

/// The result of a translation: the Ignition JSON unless there were errors, and
/// everything found along the way.
#[derive(Debug)]
pub struct Outcome {
    pub json: Option<String>,
    pub report: Report,
    /// The dialect the config was read as, once known.
    pub dialect: Option<Dialect>,
}

/// Translates a Butane config.
pub fn transpile(input: &[u8], options: &Options) -> Outcome {
    let mut report = Report::default();
    let fail = |report: Report| Outcome {
        json: None,
        report,
        dialect: None,
    };
    let text = match std::str::from_utf8(input) {
        Ok(t) => t,
        Err(e) => {
            report.push(
                Kind::Error,
                JsonPath::root(),
                None,
                format!("the config is not UTF-8 text: {e}"),
            );
            return fail(report);
        }
    };
    let root = match yaml::parse(text) {
        Ok(root) => root,
        Err(e) => {
            report.push(Kind::Error, JsonPath::root(), e.pos, e.message);
            return fail(report);
        }
    };
    let dialect = match dialect_of(&root) {
        Ok(d) => d,
        Err((path, pos, message)) => {
            report.push(Kind::Error, path, pos, message);
            return fail(report);
        }
    };

    let mut diag = Diag::new(Origins::new());
    let source = decode::decode_root(&root, &schema::ROOT, dialect, &mut diag);
    checks::check(&source, dialect, &mut diag);

    let files = options.files_dir.as_deref().map(FilesDir::open);
    let mut cx = Ctx {
        dialect,
        diag,
        files: files.as_ref(),
    };
    let out = translate::translate(&source, &mut cx);
    let mut diag = cx.diag;
    for (path, message) in filters::forbidden(dialect.variant, &out) {
        output_check::add(Kind::Error, &path, message.to_owned(), &out, &mut diag);
    }
    let json = emit::to_json(&out, options.pretty);
    output_check::validate(&json, &out, &mut diag);

    let json = (!diag.report.has_errors()).then_some(json);
    Outcome {
        json,
        report: diag.report,
        dialect: Some(dialect),
    }
}

type DialectFailure = (JsonPath, Option<yaml::Pos>, String);

/// Reads `variant` and `version` first, as Butane does, to pick the dialect.
fn dialect_of(root: &Node) -> Result<Dialect, DialectFailure> {
    if !matches!(root.kind, NodeKind::Map(_)) {
        return Err((
            JsonPath::root(),
            Some(root.pos),
            format!("a config must be a mapping, found {}", root.describe()),
        ));
    }
    let field = |key: &str| -> (String, Option<yaml::Pos>) {
        match root.get(key) {
            Some(n) => (
                n.as_scalar()
                    .filter(|s| !s.is_null())
                    .map(|s| s.text.clone())
                    .unwrap_or_default(),
                Some(n.pos),
            ),
            None => (String::new(), None),
        }
    };
    let (variant, variant_pos) = field("variant");
    let (version, version_pos) = field("version");
    variant::lookup(&variant, &version).map_err(|e| {
        let (key, pos) = match e {
            variant::DialectError::InvalidVersion => ("version", version_pos),
            variant::DialectError::Unknown { .. } => ("version", version_pos.or(variant_pos)),
            _ => ("variant", variant_pos),
        };
        (
            JsonPath::root().key(key),
            pos.or(Some(root.pos)),
            e.to_string(),
        )
    })
}
