//! The Ignition config spec, 3.0.0 to 3.6.0: types, parsing with version dispatch,
//! translation to 3.6.0, validation, merging and the JSON Schema. No I/O happens here.
//!
//! ```
//! let parsed = kindling_spec::parse(br#"{"ignition": {"version": "3.4.0"}}"#, Default::default())
//!     .expect("valid");
//! assert_eq!(parsed.version, kindling_spec::SpecVersion::V3_4);
//! ```

pub mod data_url;
mod de;
mod fast;
mod gate;
pub mod legacy;
pub mod merge;
pub mod messages;
pub mod path;
mod position;
pub mod report;
pub mod schema;
mod shape;
pub mod source;
mod translate;
pub mod types;
mod validate;
pub mod version;

use serde::Deserialize;

pub use legacy::LegacyVersion;
pub use path::JsonPath;
pub use report::{Entry, Kind, Position, Report};
pub use types::Config;
pub use version::SpecVersion;

/// How strictly to read a config.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Treat warnings (such as unused keys) as errors.
    pub strict: bool,
}

/// A config that passed validation, translated to spec 3.6.0.
#[derive(Debug, Clone)]
pub struct Parsed {
    pub config: Config,
    /// The version the config was written against; for a spec 1 or 2.x config, the 3.x
    /// version whose rules its translation was checked by (see `legacy`).
    pub version: SpecVersion,
    /// Set when the config was written against spec 1 or 2.x and translated.
    pub legacy: Option<LegacyVersion>,
    /// Warnings and notes; never contains errors.
    pub report: Report,
}

/// Parses, validates and translates a config. On failure the report holds at least one error.
pub fn parse(input: &[u8], options: Options) -> Result<Parsed, Report> {
    finish(input, options, |report| parse_inner(input, report))
}

/// Parses a config of any version Kindling reads (spec 1, 2.0.0–2.3.0, 3.0.0–3.6.0) and
/// returns it as a config of spec `to`, with `ignition.version` set to it. A 3.x config newer
/// than `to` is refused: translation only goes forward.
pub fn translate(input: &[u8], options: Options, to: SpecVersion) -> Result<Parsed, Report> {
    let mut parsed = parse(input, options)?;
    if parsed.legacy.is_none() && parsed.version > to {
        let mut report = parsed.report;
        report.error(
            JsonPath::parse("$.ignition.version"),
            format!(
                "cannot translate spec {} down to {to}: translation only goes to the same or a newer version; ask for {} or newer",
                parsed.version, parsed.version
            ),
        );
        if let Ok(text) = std::str::from_utf8(input) {
            position::locate(text, &mut report);
        }
        return Err(report);
    }
    parsed.config.ignition.version = to.to_string();
    Ok(parsed)
}

/// [`parse`] without the fast path for clean configs, so tests can show that both paths read
/// every config the same way. Not for other uses: it is slower and takes more memory.
#[doc(hidden)]
pub fn parse_slow(input: &[u8], options: Options) -> Result<Parsed, Report> {
    finish(input, options, |report| slow_path(input, report))
}

fn finish(
    input: &[u8],
    options: Options,
    inner: impl FnOnce(&mut Report) -> Option<Outcome>,
) -> Result<Parsed, Report> {
    let mut report = Report::new();
    let result = inner(&mut report);
    if options.strict {
        report.make_strict();
    }
    if !report.is_empty() {
        if let Ok(text) = std::str::from_utf8(input) {
            position::locate(text, &mut report);
        }
    }
    match result {
        Some((config, version, legacy)) if !report.is_fatal() => Ok(Parsed {
            config,
            version,
            legacy,
            report,
        }),
        _ => Err(report),
    }
}

/// A config read into the model, the version it was checked by, and its spec 1/2.x version.
type Outcome = (Config, SpecVersion, Option<LegacyVersion>);

fn parse_inner(input: &[u8], report: &mut Report) -> Option<Outcome> {
    if let Some((config, version)) = fast::try_parse(input) {
        validate::validate(version, &config, report);
        return Some((translate::to_newest(version, config), version, None));
    }
    slow_path(input, report)
}

fn slow_path(input: &[u8], report: &mut Report) -> Option<Outcome> {
    let mut doc = match source::parse(input) {
        Ok(doc) => doc,
        Err(err) => {
            let position = err.position();
            report.error(JsonPath::root(), err.to_string());
            if let Some(entry) = report.entries.last_mut() {
                entry.position = position;
            }
            return None;
        }
    };
    if let Some(legacy) = legacy::detect(&doc) {
        let config = legacy::parse(legacy, doc, report)?;
        let version = legacy::TRANSLATED_AS;
        return Some((translate::to_newest(version, config), version, Some(legacy)));
    }
    let version = match version::detect(&doc) {
        Ok(v) => v,
        Err(err) => {
            report.error(JsonPath::parse("$.ignition.version"), err.to_string());
            return None;
        }
    };
    // Unused keys are reported after everything else, as ignition-validate orders them.
    let mut unused = Report::new();
    gate::set_aside_newer_fields(version, &mut doc, &mut unused);
    let config = if shape::check(&doc, report) {
        deserialize(doc, report, &mut unused)
    } else {
        None
    };
    if let Some(config) = &config {
        // Each version is validated by its own rules, then translated, as Ignition does.
        validate::validate(version, config, report);
    }
    report.merge(unused);
    Some((translate::to_newest(version, config?), version, None))
}

/// Reads the typed model from a JSON tree, reporting every key the model does not use.
fn deserialize(
    doc: serde_json::Value,
    report: &mut Report,
    unused_keys: &mut Report,
) -> Option<Config> {
    let mut unused = Vec::new();
    let mut on_unused = |path: serde_ignored::Path<'_>| unused.push(ignored_path(&path));
    let ignored = serde_ignored::Deserializer::new(doc, &mut on_unused);
    let mut track = serde_path_to_error::Track::new();
    let tracked = serde_path_to_error::Deserializer::new(ignored, &mut track);
    let result = Config::deserialize(tracked);
    for path in unused {
        let key = path.last_key().unwrap_or("?").to_owned();
        let valid = schema::fields_of_parent(&path);
        let valid: Vec<&str> = valid.iter().map(String::as_str).collect();
        unused_keys.key_warning(path, messages::unused_key(&key, &valid));
    }
    match result {
        Ok(config) => Some(config),
        Err(err) => {
            let path = JsonPath::from(&track.path());
            report.error(path, type_error_message(&err.to_string()));
            None
        }
    }
}

pub(crate) fn ignored_path(path: &serde_ignored::Path<'_>) -> JsonPath {
    use serde_ignored::Path as P;
    match path {
        P::Root => JsonPath::root(),
        P::Seq { parent, index } => ignored_path(parent).index(*index),
        P::Map { parent, key } => ignored_path(parent).key(key),
        P::Some { parent } | P::NewtypeStruct { parent } | P::NewtypeVariant { parent } => {
            ignored_path(parent)
        }
    }
}

/// Rewords serde's type errors in JSON terms ("expected a string, found an integer").
pub(crate) fn type_error_message(serde_msg: &str) -> String {
    let words = [
        ("i64", "an integer"),
        ("a string", "a string"),
        ("a boolean", "a boolean (true or false)"),
        ("a sequence", "a list"),
        ("struct ", "an object"),
    ];
    let expected = serde_msg
        .split_once("expected ")
        .map(|(_, e)| e.trim())
        .map(|e| {
            words
                .iter()
                .find(|(needle, _)| e.contains(needle))
                .map_or(e.to_owned(), |(_, say)| (*say).to_owned())
        });
    let found = serde_msg
        .strip_prefix("invalid type: ")
        .and_then(|rest| rest.split_once(", expected"))
        .map(|(f, _)| f.to_owned());
    match (found, expected) {
        (Some(found), Some(expected)) => {
            // serde says `string "0644"`; say `a string ("0644")`, as flint does.
            let (kind, shown) = match found.split_once(' ') {
                Some((k, v)) => (k, Some(v)),
                None => (found.as_str(), None),
            };
            let kind = match kind {
                "string" => "a string",
                "integer" => "an integer",
                "floating" => "a number with a fraction",
                "boolean" => "a boolean",
                "sequence" => "a list",
                "map" => "an object",
                "null" | "unit" => "null",
                _ => kind,
            };
            let shown = shown.filter(|v| !v.starts_with("point"));
            messages::wrong_type(&expected, kind, shown)
        }
        _ => format!("invalid value: {serde_msg}"),
    }
}
