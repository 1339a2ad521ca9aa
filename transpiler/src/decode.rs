//! Reads the YAML tree into a value tree, field by field as the dialect's table says:
//! unknown keys are warnings ("unused key", worded as `kindling validate` words it), wrong types are errors, and
//! every error in the document is reported, not just the first.

use kindling_spec::Kind;

use crate::report::Diag;
use crate::schema::{Obj, Ty};
use crate::tree::{OriginId, K, V};
use crate::variant::Dialect;
use crate::yaml::{Node, NodeKind};

/// Decodes the document root. Null values are left out, as unset fields.
pub fn decode_root(node: &Node, root: &'static Obj, dialect: Dialect, diag: &mut Diag) -> V {
    let origin = diag.origins.root(node.pos);
    match &node.kind {
        NodeKind::Map(_) => decode_obj(node, root, origin, dialect, diag),
        _ => {
            diag.error(
                origin,
                format!("a config must be a mapping, found {}", node.describe()),
            );
            V::obj(origin)
        }
    }
}

fn decode_obj(
    node: &Node,
    def: &'static Obj,
    origin: OriginId,
    dialect: Dialect,
    diag: &mut Diag,
) -> V {
    let mut out = V::obj(origin);
    let NodeKind::Map(entries) = &node.kind else {
        return out;
    };
    for entry in entries {
        let Some(field) = def.yaml_field(&entry.key, dialect) else {
            let path = diag.origins.path(origin).key(&entry.key);
            diag.report.push(Kind::Warning, path, Some(entry.key_pos), {
                let valid: Vec<&str> = def
                    .fields
                    .iter()
                    .filter(|f| f.gate.allows(dialect))
                    .map(|f| f.yaml)
                    .collect();
                kindling_spec::messages::unused_key(&entry.key, &valid)
            });
            continue;
        };
        let child = diag.origins.key(origin, field.yaml, entry.value.pos);
        if let Some(v) = decode_value(&entry.value, field.ty, child, dialect, diag) {
            out.set(field.yaml, v);
        }
    }
    out
}

fn decode_value(
    node: &Node,
    ty: Ty,
    origin: OriginId,
    dialect: Dialect,
    diag: &mut Diag,
) -> Option<V> {
    if let NodeKind::Scalar(s) = &node.kind {
        if s.is_null() {
            return None;
        }
    }
    let wrong = |diag: &mut Diag, expected: &str| {
        diag.error(origin, {
            let (kind, shown) = node.parts();
            kindling_spec::messages::wrong_type(expected, kind, shown.as_deref())
        });
        None
    };
    match ty {
        Ty::Str => match &node.kind {
            NodeKind::Scalar(s) => Some(V::str(origin, s.text.clone())),
            _ => wrong(diag, "a string"),
        },
        Ty::Int => match node.as_scalar().and_then(|s| s.as_int()) {
            Some(i) => Some(V::int(origin, i)),
            None => wrong(diag, "an integer"),
        },
        Ty::Bool => match node.as_scalar().and_then(|s| s.as_bool()) {
            Some(b) => Some(V::bool(origin, b)),
            None => wrong(diag, "a boolean (true or false)"),
        },
        Ty::Obj(def) => match &node.kind {
            NodeKind::Map(_) => Some(decode_obj(node, def, origin, dialect, diag)),
            _ => wrong(diag, "a mapping"),
        },
        Ty::List(item) => match &node.kind {
            NodeKind::Seq(items) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, it) in items.iter().enumerate() {
                    let child = diag.origins.index(origin, i, it.pos);
                    match decode_value(it, *item, child, dialect, diag) {
                        Some(v) => out.push(v),
                        // A null list item is the zero value of its type, as in Go.
                        None if it.as_scalar().is_some_and(|s| s.is_null()) => {
                            out.push(zero(*item, child));
                        }
                        None => {}
                    }
                }
                Some(V::new(origin, K::List(out)))
            }
            _ => wrong(diag, "a list"),
        },
    }
}

fn zero(ty: Ty, origin: OriginId) -> V {
    match ty {
        Ty::Str => V::str(origin, ""),
        Ty::Int => V::int(origin, 0),
        Ty::Bool => V::bool(origin, false),
        Ty::List(_) => V::list(origin, Vec::new()),
        Ty::Obj(_) => V::obj(origin),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::ROOT;
    use crate::tree::Origins;
    use crate::variant::lookup;
    use crate::yaml::parse;

    fn decode(text: &str, version: &str) -> (V, Diag) {
        let node = parse(text).expect("yaml");
        let mut diag = Diag::new(Origins::new());
        let dialect = lookup("fcos", version).expect("dialect");
        let v = decode_root(&node, &ROOT, dialect, &mut diag);
        (v, diag)
    }

    #[test]
    fn unknown_keys_warn_at_the_key() {
        let (_, diag) = decode(
            "variant: fcos\nversion: 1.5.0\nstorage:\n  filez: []\n",
            "1.5.0",
        );
        let e = &diag.report.entries[0];
        assert_eq!(e.kind, Kind::Warning);
        assert_eq!(e.path.to_string(), "$.storage.filez");
        assert_eq!(
            e.message,
            "unused key filez: did you mean files? (remove it or fix its spelling)"
        );
        assert_eq!(e.pos.map(|p| (p.line, p.col)), Some((4, 3)));
    }

    #[test]
    fn fields_newer_than_the_version_are_unused() {
        let (_, diag) = decode("storage:\n  luks: []\n", "1.1.0");
        assert!(diag.report.entries[0]
            .message
            .starts_with("unused key luks: "));
        let (_, diag) = decode("storage:\n  luks: []\n", "1.2.0");
        assert!(diag.report.is_empty());
    }

    #[test]
    fn wrong_types_are_errors_and_decoding_goes_on() {
        let (v, diag) = decode(
            "storage:\n  files:\n    - path: /a\n      mode: rw\n    - path: [x]\n",
            "1.5.0",
        );
        assert_eq!(diag.report.entries.len(), 2);
        assert_eq!(
            diag.report.entries[0].path.to_string(),
            "$.storage.files.0.mode"
        );
        assert!(diag.report.entries[0]
            .message
            .contains("expected an integer"));
        assert_eq!(
            diag.report.entries[1].path.to_string(),
            "$.storage.files.1.path"
        );
        let files = v.get("storage").map(|s| s.list_at("files").len());
        assert_eq!(files, Some(2));
    }

    #[test]
    fn scalars_of_any_type_read_into_strings() {
        let (v, diag) = decode("passwd:\n  users:\n    - name: 123\n", "1.5.0");
        assert!(diag.report.is_empty());
        let name = v
            .get("passwd")
            .map(|p| p.list_at("users")[0].str_at("name").map(str::to_owned));
        assert_eq!(name, Some(Some("123".to_owned())));
    }
}
