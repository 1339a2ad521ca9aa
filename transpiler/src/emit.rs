//! Writes the output tree as JSON: keys in Ignition's own field order, empty lists and
//! objects left out (as Butane's encoder leaves them out), compact or pretty-printed with
//! two-space indentation.

use std::fmt::Write;

use crate::schema::{Obj, Ty, ROOT};
use crate::tree::{K, V};

pub fn to_json(root: &V, pretty: bool) -> String {
    let mut out = String::with_capacity(4096);
    write_value(root, Some(&ROOT), pretty, 0, &mut out);
    out
}

fn write_value(v: &V, def: Option<&'static Obj>, pretty: bool, depth: usize, out: &mut String) {
    match &v.k {
        K::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        K::Int(i) => {
            let _ = write!(out, "{i}");
        }
        K::Str(s) => write_str(s, out),
        K::List(items) => {
            out.push('[');
            let mut first = true;
            for item in items {
                sep(&mut first, pretty, depth + 1, out);
                write_value(item, def, pretty, depth + 1, out);
            }
            close(first, pretty, depth, out);
            out.push(']');
        }
        K::Obj(fields) => {
            let mut order: Vec<&(&'static str, V)> = fields
                .iter()
                .filter(|(_, v)| !v.is_empty_container())
                .collect();
            if let Some(d) = def {
                order.sort_by_key(|(k, _)| d.json_rank(k));
            }
            out.push('{');
            let mut first = true;
            for (k, child) in order {
                sep(&mut first, pretty, depth + 1, out);
                write_str(k, out);
                out.push(':');
                if pretty {
                    out.push(' ');
                }
                let child_def = def
                    .and_then(|d| d.json_field(k))
                    .and_then(|f| child_obj(f.ty));
                write_value(child, child_def, pretty, depth + 1, out);
            }
            close(first, pretty, depth, out);
            out.push('}');
        }
    }
}

fn child_obj(ty: Ty) -> Option<&'static Obj> {
    ty.obj()
}

fn sep(first: &mut bool, pretty: bool, depth: usize, out: &mut String) {
    if !*first {
        out.push(',');
    }
    *first = false;
    if pretty {
        out.push('\n');
        for _ in 0..depth {
            out.push_str("  ");
        }
    }
}

fn close(empty: bool, pretty: bool, depth: usize, out: &mut String) {
    if pretty && !empty {
        out.push('\n');
        for _ in 0..depth {
            out.push_str("  ");
        }
    }
}

fn write_str(s: &str, out: &mut String) {
    // serde_json's escaping is the reference for JSON strings.
    match serde_json::to_string(s) {
        Ok(q) => out.push_str(&q),
        Err(_) => out.push_str("\"\""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_follow_ignition_order_and_empties_are_dropped() {
        let file = V::new(
            0,
            K::Obj(vec![
                ("mode", V::int(0, 420)),
                ("path", V::str(0, "/a")),
                ("append", V::list(0, vec![])),
                ("group", V::new(0, K::Obj(vec![("id", V::int(0, 5))]))),
            ]),
        );
        let root = V::new(
            0,
            K::Obj(vec![
                (
                    "storage",
                    V::new(0, K::Obj(vec![("files", V::list(0, vec![file]))])),
                ),
                (
                    "ignition",
                    V::new(0, K::Obj(vec![("version", V::str(0, "3.4.0"))])),
                ),
            ]),
        );
        assert_eq!(
            to_json(&root, false),
            r#"{"ignition":{"version":"3.4.0"},"storage":{"files":[{"group":{"id":5},"path":"/a","mode":420}]}}"#
        );
        let pretty = to_json(&root, true);
        assert!(pretty.starts_with("{\n  \"ignition\": {\n    \"version\": \"3.4.0\"\n  },"));
    }
}
