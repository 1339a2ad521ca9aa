//! `storage.trees`: a directory under `--files-dir` embedded file by file. Regular files
//! become `files` entries (mode 0755 if executable, else 0644, unless `file_mode` says
//! otherwise), symlinks become `links`, and with `dir_mode`/`user`/`group` (fcos 1.7.0)
//! directories become `directories`. An existing `files` entry without contents (or `links`
//! entry without target) for the same path receives the contents; any other clash is an
//! error. Symlinks are never followed, and the tree's root must really be inside the files
//! directory.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::data_url;
use crate::files_dir::LocalError;
use crate::translate::Ctx;
use crate::tree::{OriginId, V};

pub const ERR_NODE_EXISTS: &str =
    "matching filesystem node has existing contents or different type";
pub const ERR_FILE_TYPE: &str = "trees may only contain files, directories, and symlinks";
pub const ERR_NOT_DIRECTORY: &str = "root of tree must be a directory";

pub fn apply(root: &V, out: &mut V, cx: &mut Ctx<'_>) {
    let Some(trees) = root.get("storage").map(|s| s.list_at("trees")) else {
        return;
    };
    for tree in trees {
        let Some(files) = cx.files else {
            cx.diag
                .error(tree.origin, LocalError::NoFilesDir.to_string());
            return;
        };
        let local = tree.str_at("local").unwrap_or_default();
        if local.is_empty() {
            continue; // reported by the checks
        }
        let src = match files.resolve(local) {
            Ok(p) => p,
            Err(e) => {
                cx.diag.error(tree.origin, e.to_string());
                continue;
            }
        };
        if !src.is_dir() {
            cx.diag.error(tree.origin, ERR_NOT_DIRECTORY);
            continue;
        }
        let dest = tree
            .str_at("path")
            .filter(|p| !p.is_empty())
            .unwrap_or("/")
            .to_owned();
        let opts = Options {
            origin: tree.origin,
            user: tree
                .get("user")
                .filter(|u| !u.is_empty_container())
                .cloned(),
            group: tree
                .get("group")
                .filter(|g| !g.is_empty_container())
                .cloned(),
            file_mode: tree.get("file_mode").and_then(V::as_int),
            dir_mode: tree.get("dir_mode").and_then(V::as_int),
        };
        let storage = out.entry("storage", tree.origin);
        walk(&src, &dest, &opts, storage, cx);
    }
}

struct Options {
    origin: OriginId,
    user: Option<V>,
    group: Option<V>,
    file_mode: Option<i64>,
    dir_mode: Option<i64>,
}

/// Walks in lexical order, as Go's `filepath.Walk` does, without following symlinks.
fn walk(dir: &Path, dest: &str, opts: &Options, storage: &mut V, cx: &mut Ctx<'_>) {
    if opts.dir_mode.is_some() || opts.user.is_some() || opts.group.is_some() {
        add_directory(dest, opts, storage, cx);
    }
    let mut entries: Vec<_> = match std::fs::read_dir(dir) {
        Ok(rd) => rd.filter_map(Result::ok).collect(),
        Err(e) => {
            cx.diag
                .error(opts.origin, format!("reading {}: {e}", dir.display()));
            return;
        }
    };
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let target = join(dest, &name);
        let meta = match std::fs::symlink_metadata(&path) {
            Ok(m) => m,
            Err(e) => {
                cx.diag
                    .error(opts.origin, format!("reading {}: {e}", path.display()));
                continue;
            }
        };
        let ft = meta.file_type();
        if ft.is_dir() {
            walk(&path, &target, opts, storage, cx);
        } else if ft.is_file() {
            let executable = meta.permissions().mode() & 0o111 != 0;
            add_file(&path, &target, executable, opts, storage, cx);
        } else if ft.is_symlink() {
            match std::fs::read_link(&path) {
                Ok(t) => add_link(&target, &t.to_string_lossy(), opts, storage, cx),
                Err(e) => cx
                    .diag
                    .error(opts.origin, format!("reading {}: {e}", path.display())),
            }
        } else {
            cx.diag.error(opts.origin, ERR_FILE_TYPE);
        }
    }
}

/// `path.Join` of the destination and a name.
fn join(dest: &str, name: &str) -> String {
    if dest.ends_with('/') {
        format!("{dest}{name}")
    } else {
        format!("{dest}/{name}")
    }
}

fn node(path: &str, opts: &Options) -> V {
    let o = opts.origin;
    let mut v = V::obj(o);
    if let Some(g) = &opts.group {
        v.set("group", rename_owner(g, o));
    }
    v.set("path", V::str(o, path));
    if let Some(u) = &opts.user {
        v.set("user", rename_owner(u, o));
    }
    v
}

fn rename_owner(v: &V, o: OriginId) -> V {
    let mut out = V::obj(o);
    for (k, val) in v.fields() {
        out.set(k, val.clone());
    }
    out
}

fn exists_elsewhere(storage: &V, path: &str, except: &str) -> bool {
    ["files", "directories", "links"]
        .iter()
        .filter(|l| **l != except)
        .any(|l| {
            storage
                .list_at(l)
                .iter()
                .any(|i| i.str_at("path") == Some(path))
        })
}

fn add_directory(path: &str, opts: &Options, storage: &mut V, cx: &mut Ctx<'_>) {
    let taken = storage
        .list_at("directories")
        .iter()
        .any(|i| i.str_at("path") == Some(path));
    if taken || exists_elsewhere(storage, path, "directories") {
        cx.diag.error(opts.origin, ERR_NODE_EXISTS);
        return;
    }
    let mut dir = node(path, opts);
    dir.set("mode", V::int(opts.origin, opts.dir_mode.unwrap_or(0o755)));
    storage.list_entry("directories", opts.origin).push(dir);
}

fn add_file(
    src: &Path,
    path: &str,
    executable: bool,
    opts: &Options,
    storage: &mut V,
    cx: &mut Ctx<'_>,
) {
    let o = opts.origin;
    let existing = storage
        .list_at("files")
        .iter()
        .position(|f| f.str_at("path") == Some(path));
    if let Some(i) = existing {
        let f = &storage.list_at("files")[i];
        if f.get("contents")
            .and_then(|c| c.str_at("source"))
            .is_some_and(|s| !s.is_empty())
        {
            cx.diag.error(o, ERR_NODE_EXISTS);
            return;
        }
    } else if exists_elsewhere(storage, path, "files") {
        cx.diag.error(o, ERR_NODE_EXISTS);
        return;
    }
    let contents = match std::fs::read(src) {
        Ok(c) => c,
        Err(e) => {
            cx.diag.error(o, format!("reading {}: {e}", src.display()));
            return;
        }
    };
    let files = storage.list_entry("files", o);
    let i = match existing {
        Some(i) => i,
        None => {
            files.push(node(path, opts));
            files.len() - 1
        }
    };
    let file = &mut files[i];
    let user_compression = file
        .get("contents")
        .and_then(|c| c.str_at("compression"))
        .map(str::to_owned);
    let url = data_url::make(&contents, user_compression.as_deref(), true);
    let c = file.entry("contents", o);
    c.set("source", V::str(o, url.url));
    if let Some(comp) = url.compression {
        c.set("compression", V::str(o, comp));
    }
    if file.get("mode").is_none() {
        let default = if executable { 0o755 } else { 0o644 };
        file.set("mode", V::int(o, opts.file_mode.unwrap_or(default)));
    }
}

fn add_link(path: &str, target: &str, opts: &Options, storage: &mut V, cx: &mut Ctx<'_>) {
    let o = opts.origin;
    let existing = storage
        .list_at("links")
        .iter()
        .position(|l| l.str_at("path") == Some(path));
    if let Some(i) = existing {
        if storage.list_at("links")[i]
            .str_at("target")
            .is_some_and(|t| !t.is_empty())
        {
            cx.diag.error(o, ERR_NODE_EXISTS);
            return;
        }
    } else if exists_elsewhere(storage, path, "links") {
        cx.diag.error(o, ERR_NODE_EXISTS);
        return;
    }
    let links = storage.list_entry("links", o);
    let i = match existing {
        Some(i) => i,
        None => {
            links.push(node(path, opts));
            links.len() - 1
        }
    };
    if let Some(link) = links.get_mut(i) {
        link.set("target", V::str(o, target));
    }
}
