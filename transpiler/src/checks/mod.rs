//! Butane's checks of the source config, run on the decoded tree before desugaring. The
//! messages follow Butane's wording so that existing knowledge (and searches) still apply.

mod boot_device;
mod merged_config;
pub mod mode;

use kindling_spec::Kind;

use crate::report::Diag;
use crate::schema::{Obj, Ty, ROOT};
use crate::tree::V;
use crate::variant::Dialect;

pub const ERR_TOO_MANY_SOURCES: &str =
    "only one of the following can be set: inline, local, source";
pub const ERR_TOO_MANY_SYSTEMD_SOURCES: &str =
    "only one of the following can be set: contents, contents_local";
pub const ERR_DECIMAL_MODE: &str =
    "unreasonable mode would be reasonable if specified in octal; remember to add a leading zero";
pub const ERR_MOUNT_UNIT_NO_PATH: &str =
    "path is required if with_mount_unit is true and format is not swap";
pub const ERR_MOUNT_UNIT_NO_FORMAT: &str = "format is required if with_mount_unit is true";
pub const ERR_MOUNT_POINT_FORBIDDEN: &str =
    "path must be under /etc or /var if with_mount_unit is true";
pub const ERR_TREE_NO_LOCAL: &str = "local is required";
pub const ERR_REUSE_BY_LABEL: &str = "partitions cannot be reused by label; number must be specified except on boot disk (/dev/disk/by-id/coreos-boot-disk) or when wipe_table is true";

/// Runs every check on the decoded config.
pub fn check(root: &V, dialect: Dialect, diag: &mut Diag) {
    walk(&ROOT, root, &mut |def, v| {
        check_object(def, v, dialect, diag)
    });
    if dialect.is_fcos_at_least(6) {
        check_partition_reuse(root, diag);
    }
}

/// Calls `f` on every object of the tree, parents first.
pub fn walk<'v>(def: &'static Obj, v: &'v V, f: &mut impl FnMut(&'static Obj, &'v V)) {
    f(def, v);
    for (key, child) in v.fields() {
        let Some(field) = def.fields.iter().find(|fl| fl.yaml == *key) else {
            continue;
        };
        match field.ty {
            Ty::Obj(d) => walk(d, child, f),
            Ty::List(Ty::Obj(d)) => {
                for item in child.as_list() {
                    walk(d, item, f);
                }
            }
            _ => {}
        }
    }
}

fn nonempty(v: &V, key: &str) -> bool {
    v.str_at(key).is_some_and(|s| !s.is_empty())
}

fn check_object(def: &'static Obj, v: &V, dialect: Dialect, diag: &mut Diag) {
    match def.name {
        "resource" => check_resource(v, dialect, diag),
        "filesystem" => check_filesystem(v, dialect, diag),
        "file" | "directory" => {
            if let Some(mode) = v.get("mode") {
                if mode
                    .as_int()
                    .is_some_and(|m| mode::looks_decimal(m, def.name == "directory"))
                {
                    diag.warning(mode.origin, ERR_DECIMAL_MODE);
                }
            }
        }
        "tree" => {
            if !nonempty(v, "local") {
                diag.error(v.origin, ERR_TREE_NO_LOCAL);
            }
            for (key, dir) in [("file_mode", false), ("dir_mode", true)] {
                if let Some(m) = v.get(key) {
                    if m.as_int().is_some_and(|m| mode::looks_decimal(m, dir)) {
                        diag.warning(m.origin, ERR_DECIMAL_MODE);
                    }
                }
            }
        }
        "unit" | "dropin" => {
            if let (Some(_), Some(local)) = (v.get("contents"), v.get("contents_local")) {
                diag.error(local.origin, ERR_TOO_MANY_SYSTEMD_SOURCES);
            }
        }
        "boot_device" => boot_device::check(v, dialect, diag),
        "grub_user" => {
            if !nonempty(v, "name") {
                field_error(v, "name", "field \"name\" is required", diag);
            }
            if !nonempty(v, "password_hash") {
                field_error(
                    v,
                    "password_hash",
                    "field \"password_hash\" is required",
                    diag,
                );
            }
        }
        _ => {}
    }
}

/// An error about a field: at the field if it is there, else at its object.
fn field_error(v: &V, field: &str, message: &str, diag: &mut Diag) {
    match v.get(field) {
        Some(f) => diag.error(f.origin, message),
        None => diag.add_on_field(Kind::Error, v.origin, field, message),
    }
}

fn check_resource(v: &V, dialect: Dialect, diag: &mut Diag) {
    let set: Vec<&V> = ["local", "inline", "source"]
        .iter()
        .filter_map(|k| v.get(k))
        .collect();
    if let Some(last) = set.last() {
        if set.len() > 1 {
            diag.error(last.origin, ERR_TOO_MANY_SOURCES);
            return;
        }
    }
    if let Some(inline) = v.get("inline") {
        if diag
            .origins
            .path(v.origin)
            .to_string()
            .starts_with("$.ignition.config")
        {
            merged_config::check_inline(inline, dialect, diag);
        }
    }
}

fn check_filesystem(v: &V, dialect: Dialect, diag: &mut Diag) {
    if !v.is_true("with_mount_unit") {
        return;
    }
    if dialect.level() >= 3 {
        if !nonempty(v, "format") {
            field_error(v, "format", ERR_MOUNT_UNIT_NO_FORMAT, diag);
        } else if v.str_at("format") != Some("swap") && !nonempty(v, "path") {
            field_error(v, "path", ERR_MOUNT_UNIT_NO_PATH, diag);
        }
    } else {
        if !nonempty(v, "path") {
            field_error(v, "path", ERR_MOUNT_UNIT_NO_PATH, diag);
        }
        if !nonempty(v, "format") {
            field_error(v, "format", ERR_MOUNT_UNIT_NO_FORMAT, diag);
        }
    }
    if dialect.is_fcos_at_least(6) {
        if let Some(path) = v.get("path") {
            let p = path.as_str().unwrap_or_default();
            let allowed = ["/etc", "/var"].iter().any(|top| {
                p.strip_prefix(top)
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
            });
            if !allowed {
                diag.error(path.origin, ERR_MOUNT_POINT_FORBIDDEN);
            }
        }
    }
}

/// fcos 1.6.0+: an existing partition cannot be matched by label alone.
fn check_partition_reuse(root: &V, diag: &mut Diag) {
    let Some(storage) = root.get("storage") else {
        return;
    };
    for disk in storage.list_at("disks") {
        if disk.str_at("device") == Some("/dev/disk/by-id/coreos-boot-disk")
            || disk.is_true("wipe_table")
        {
            continue;
        }
        for part in disk.list_at("partitions") {
            let number = part.get("number").and_then(V::as_int).unwrap_or(0);
            if number == 0 && part.get("label").is_some() {
                match part.get("number") {
                    Some(n) => diag.warning(n.origin, ERR_REUSE_BY_LABEL),
                    None => {
                        diag.add_on_field(Kind::Warning, part.origin, "number", ERR_REUSE_BY_LABEL)
                    }
                }
            }
        }
    }
}
