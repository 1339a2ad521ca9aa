//! Ignition's merge, on output trees: Butane renders each piece of sugar as a parent config
//! and merges the user's config over it, so that the user's explicit entries win.
//!
//! The child wins field by field. Lists merge by key (entries with the same key merge in
//! place, new child entries follow), or are appended, or are sets of strings; files,
//! directories and links share one namespace by path.

use crate::tree::{K, NO_ORIGIN, V};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ListKind {
    Append,
    Value,
    Field(&'static str),
    Partition,
}

fn list_kind(path: &[&'static str]) -> ListKind {
    use ListKind::*;
    match path {
        ["storage", "files" | "directories" | "links"] => Field("path"),
        ["ignition", "config", "merge"]
        | ["ignition", "security", "tls", "certificateAuthorities"] => Field("source"),
        ["storage", "disks" | "filesystems"] => Field("device"),
        ["storage", "disks", "partitions"] => Partition,
        ["storage", "raid" | "luks"]
        | ["systemd", "units"]
        | ["systemd", "units", "dropins"]
        | ["passwd", "users" | "groups"] => Field("name"),
        [.., "httpHeaders"] => Field("name"),
        ["storage", "luks", "clevis", "tang"] => Field("url"),
        ["storage", "files", "append"]
        | ["storage", "filesystems", "options" | "mountOptions"]
        | ["storage", "luks", "options"]
        | ["storage", "raid", "options"] => Append,
        _ => Value,
    }
}

fn key_of(kind: ListKind, item: &V) -> Option<String> {
    match kind {
        ListKind::Append => None,
        ListKind::Value => match &item.k {
            K::Str(s) => Some(s.clone()),
            K::Int(i) => Some(i.to_string()),
            _ => None,
        },
        ListKind::Field(f) => Some(item.str_at(f).unwrap_or_default().to_owned()),
        ListKind::Partition => match item.get("number").and_then(V::as_int) {
            Some(n) if n != 0 => Some(format!("#{n}")),
            _ => Some(format!(
                "label:{}",
                item.str_at("label").unwrap_or_default()
            )),
        },
    }
}

/// Merges `child` over `parent`; both are whole output configs.
pub fn merge(mut parent: V, child: V) -> V {
    shared_namespace(&mut parent, &child);
    let mut path = Vec::new();
    merge_values(parent, child, &mut path)
}

fn merge_values(parent: V, child: V, path: &mut Vec<&'static str>) -> V {
    let origin = if child.origin == NO_ORIGIN {
        parent.origin
    } else {
        child.origin
    };
    match (parent.k, child.k) {
        (K::Obj(mut pf), K::Obj(cf)) => {
            for (key, cv) in cf {
                match pf.iter().position(|(k, _)| *k == key) {
                    Some(i) => {
                        let pv = std::mem::replace(&mut pf[i].1, V::obj(NO_ORIGIN));
                        path.push(key);
                        pf[i].1 = merge_values(pv, cv, path);
                        path.pop();
                    }
                    None => pf.push((key, cv)),
                }
            }
            V::new(origin, K::Obj(pf))
        }
        (K::List(pl), K::List(cl)) => V::new(origin, K::List(merge_lists(pl, cl, path))),
        (_, ck) => V::new(origin, ck),
    }
}

fn merge_lists(parent: Vec<V>, child: Vec<V>, path: &mut Vec<&'static str>) -> Vec<V> {
    let kind = list_kind(path);
    if kind == ListKind::Append {
        let mut out = parent;
        out.extend(child);
        return out;
    }
    let mut out = parent;
    let mut keys: Vec<Option<String>> = out.iter().map(|i| key_of(kind, i)).collect();
    for item in child {
        let key = key_of(kind, &item);
        match keys.iter().position(|k| k.is_some() && *k == key) {
            Some(i) if kind == ListKind::Value => {
                out[i] = item;
            }
            Some(i) => {
                let pv = std::mem::replace(&mut out[i], V::obj(NO_ORIGIN));
                out[i] = merge_values(pv, item, path);
            }
            None => {
                keys.push(key);
                out.push(item);
            }
        }
    }
    out
}

/// A path names at most one of a file, a directory and a link: a child entry removes the
/// parent's entries of the other two kinds at the same path.
fn shared_namespace(parent: &mut V, child: &V) {
    const LISTS: [&str; 3] = ["files", "directories", "links"];
    let Some(child_storage) = child.get("storage") else {
        return;
    };
    let Some(storage) = parent.get_mut("storage") else {
        return;
    };
    for (ci, cname) in LISTS.iter().enumerate() {
        for item in child_storage.list_at(cname) {
            let Some(p) = item.str_at("path") else {
                continue;
            };
            for (pi, pname) in LISTS.iter().enumerate() {
                if pi == ci {
                    continue;
                }
                if let Some(items) = storage.get_mut(pname).and_then(V::as_list_mut) {
                    items.retain(|i| i.str_at("path") != Some(p));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: &str) -> V {
        V::str(1, x)
    }

    fn obj(fields: Vec<(&'static str, V)>) -> V {
        V::new(1, K::Obj(fields))
    }

    #[test]
    fn keyed_lists_merge_in_place_and_new_entries_follow() {
        let parent = obj(vec![(
            "storage",
            obj(vec![(
                "filesystems",
                V::list(
                    1,
                    vec![obj(vec![
                        ("device", s("/dev/mapper/root")),
                        ("format", s("xfs")),
                        ("label", s("root")),
                    ])],
                ),
            )]),
        )]);
        let child = obj(vec![(
            "storage",
            obj(vec![(
                "filesystems",
                V::list(
                    2,
                    vec![
                        obj(vec![("device", s("/dev/vdb")), ("format", s("ext4"))]),
                        obj(vec![
                            ("device", s("/dev/mapper/root")),
                            ("format", s("ext4")),
                        ]),
                    ],
                ),
            )]),
        )]);
        let merged = merge(parent, child);
        let fss = merged
            .get("storage")
            .map(|s| s.list_at("filesystems").to_vec())
            .unwrap_or_default();
        assert_eq!(fss.len(), 2);
        assert_eq!(fss[0].str_at("format"), Some("ext4"));
        assert_eq!(fss[0].str_at("label"), Some("root"));
        assert_eq!(fss[1].str_at("device"), Some("/dev/vdb"));
    }

    #[test]
    fn partitions_merge_by_label_when_unnumbered() {
        let part = |label: &str, size: Option<i64>| {
            let mut f = vec![("label", s(label))];
            if let Some(sz) = size {
                f.push(("sizeMiB", V::int(1, sz)));
            }
            obj(f)
        };
        let disks = |parts: Vec<V>| {
            obj(vec![(
                "storage",
                obj(vec![(
                    "disks",
                    V::list(
                        1,
                        vec![obj(vec![
                            ("device", s("/dev/sda")),
                            ("partitions", V::list(1, parts)),
                        ])],
                    ),
                )]),
            )])
        };
        let merged = merge(
            disks(vec![part("boot-1", Some(384)), part("root-1", None)]),
            disks(vec![part("root-1", Some(10240)), part("var-1", None)]),
        );
        let parts = merged
            .get("storage")
            .map(|s| s.list_at("disks")[0].list_at("partitions").to_vec())
            .unwrap_or_default();
        let labels: Vec<_> = parts.iter().filter_map(|p| p.str_at("label")).collect();
        assert_eq!(labels, ["boot-1", "root-1", "var-1"]);
        assert_eq!(parts[1].get("sizeMiB").and_then(V::as_int), Some(10240));
    }
}
