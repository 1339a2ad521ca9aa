//! Findings about the generated Ignition config (Ignition's own validation through
//! kindling-spec, and the variant restrictions), mapped back to the YAML that produced each
//! output value.

use kindling_spec::path::{JsonPath, Segment};
use kindling_spec::{Kind, Options};

use crate::report::Diag;
use crate::tree::{OriginId, NO_ORIGIN, V};

/// Validates the generated JSON and reports what Ignition would report.
pub fn validate(json: &str, out: &V, diag: &mut Diag) {
    let report = match kindling_spec::parse(json.as_bytes(), Options::default()) {
        Ok(parsed) => parsed.report,
        Err(report) => report,
    };
    for e in report.entries {
        add(e.kind, &e.path, e.message, out, diag);
    }
}

/// Adds one finding about an output path, unless an earlier phase already reported an
/// error there (the finding would then be a consequence of it).
pub fn add(kind: Kind, path: &JsonPath, message: String, out: &V, diag: &mut Diag) {
    let (origin, tail) = locate(out, path);
    let mut yaml_path = diag.origins.path(origin);
    for seg in tail {
        yaml_path.push(match seg {
            Segment::Key(k) => Segment::Key(snake(k)),
            Segment::Index(i) => Segment::Index(*i),
        });
    }
    if diag.report.has_error_near(&yaml_path) {
        return;
    }
    let pos = diag.origins.pos(origin);
    diag.report.push(kind, yaml_path, pos, message);
}

/// The deepest node on the path that came from the source, and the path's remaining
/// segments below it.
fn locate<'p>(root: &V, path: &'p JsonPath) -> (OriginId, &'p [Segment]) {
    let segs = path.segments();
    let mut cur = root;
    let mut best = (root.origin, 0);
    for (i, seg) in segs.iter().enumerate() {
        let next = match seg {
            Segment::Key(k) => cur.get(k),
            Segment::Index(n) => cur.as_list().get(*n),
        };
        match next {
            Some(n) => {
                cur = n;
                if n.origin != NO_ORIGIN {
                    best = (n.origin, i + 1);
                }
            }
            None => break,
        }
    }
    (best.0, &segs[best.1..])
}

/// camelCase to snake_case, as Butane falls back to for paths it cannot translate.
fn snake(key: &str) -> String {
    let key = key.replace("MiB", "_mib");
    let mut out = String::with_capacity(key.len() + 4);
    for c in key.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::snake;

    #[test]
    fn snake_case_of_ignition_keys() {
        assert_eq!(snake("sizeMiB"), "size_mib");
        assert_eq!(snake("wipeTable"), "wipe_table");
        assert_eq!(snake("path"), "path");
    }
}
