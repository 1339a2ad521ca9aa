//! An `inline` config under `ignition.config.merge` or `.replace` is itself an Ignition
//! config: Butane validates it when its version is the one being emitted, and warns that it
//! skipped validation otherwise.

use kindling_spec::{Kind, Options};

use crate::report::Diag;
use crate::tree::V;
use crate::variant::Dialect;

pub const WARN_UNKNOWN_VERSION: &str =
    "skipping validation for the merge/replace ignition config due to an unknown version";

pub fn check_inline(inline: &V, dialect: Dialect, diag: &mut Diag) {
    let text = inline.as_str().unwrap_or_default();
    let doc: serde_json::Value = match serde_json::from_str(text) {
        Ok(doc) => doc,
        Err(e) => {
            diag.error(
                inline.origin,
                format!("the inline config is not valid JSON: {e}"),
            );
            return;
        }
    };
    let version = doc
        .get("ignition")
        .and_then(|i| i.get("version"))
        .and_then(serde_json::Value::as_str);
    match version {
        Some(v) if v == dialect.ignition.as_str() => {}
        Some(v) if is_semver(v) => {
            diag.warning(inline.origin, WARN_UNKNOWN_VERSION);
            return;
        }
        _ => {
            diag.error(
                inline.origin,
                format!(
                    "the inline config needs ignition.version \"{}\"",
                    dialect.ignition
                ),
            );
            return;
        }
    }
    let report = match kindling_spec::parse(text.as_bytes(), Options::default()) {
        Ok(parsed) => parsed.report,
        Err(report) => report,
    };
    for e in report.entries {
        let kind = if e.kind == Kind::Info {
            Kind::Info
        } else {
            e.kind
        };
        diag.add(
            kind,
            inline.origin,
            format!("in the inline config at {}: {}", e.path, e.message),
        );
    }
}

fn is_semver(v: &str) -> bool {
    let core = v.split(['-', '+']).next().unwrap_or_default();
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}
