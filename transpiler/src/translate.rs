//! From the decoded YAML tree to the Ignition output tree: keys renamed as the table says,
//! sugar fields expanded in place, then the sugar that renders whole configs (mount units,
//! trees, boot device, GRUB) merged in the order Butane merges it.

use crate::files_dir::FilesDir;
use crate::report::Diag;
use crate::schema::{Obj, Ty, ROOT};
use crate::sugar;
use crate::tree::V;
use crate::variant::Dialect;

/// What every translation step needs.
#[derive(Debug)]
pub struct Ctx<'a> {
    pub dialect: Dialect,
    pub diag: Diag,
    pub files: Option<&'a FilesDir>,
}

/// Translates a checked source tree into the output tree.
pub fn translate(root: &V, cx: &mut Ctx<'_>) -> V {
    let mut out = to_json(&ROOT, root, cx);
    if cx.dialect.level() >= 1 {
        sugar::mount_units::apply(root, &mut out, cx);
        sugar::trees::apply(root, &mut out, cx);
    }
    if cx.dialect.is_fcos_at_least(3) {
        sugar::boot_device::apply(root, &mut out, cx);
        sugar::boot_device::warn_reserved_labels(&out, cx);
    }
    if cx.dialect.is_fcos_at_least(5) {
        sugar::grub::apply(root, &mut out, cx);
    }
    let version_origin = root.get("version").map_or(root.origin, |v| v.origin);
    let ignition_origin = root.get("ignition").map_or(root.origin, |v| v.origin);
    out.entry("ignition", ignition_origin).set(
        "version",
        V::str(version_origin, cx.dialect.ignition.as_str()),
    );
    out
}

/// Renames the fields of one object (and everything under it) to their output names,
/// expanding the sugar that lives inside the object.
pub fn to_json(def: &'static Obj, v: &V, cx: &mut Ctx<'_>) -> V {
    let mut out = V::obj(v.origin);
    for field in def.fields {
        let Some(json) = field.json else {
            continue;
        };
        if !field.gate.allows(cx.dialect) {
            continue;
        }
        let Some(child) = v.get(field.yaml) else {
            continue;
        };
        let converted = match field.ty {
            Ty::Obj(d) => to_json(d, child, cx),
            Ty::List(Ty::Obj(d)) => V::list(
                child.origin,
                child.as_list().iter().map(|i| to_json(d, i, cx)).collect(),
            ),
            _ => child.clone(),
        };
        out.set(json, converted);
    }
    match def.name {
        "resource" => sugar::resource::apply(v, &mut out, cx),
        "user" => sugar::local_contents::ssh_keys(v, &mut out, cx),
        "unit" | "dropin" => sugar::local_contents::unit_contents(v, &mut out, cx),
        _ => {}
    }
    out
}
