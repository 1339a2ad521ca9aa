//! Local files that become plain strings: `ssh_authorized_keys_local` on users and
//! `contents_local` on units and drop-ins.

use crate::files_dir::{self, LocalError};
use crate::translate::Ctx;
use crate::tree::V;

/// Appends the keys of each listed file (one per non-empty line) to `sshAuthorizedKeys`.
pub fn ssh_keys(from: &V, to: &mut V, cx: &mut Ctx<'_>) {
    let Some(files) = from.get("ssh_authorized_keys_local") else {
        return;
    };
    if files.as_list().is_empty() {
        return;
    }
    if cx.files.is_none() {
        cx.diag
            .error(files.origin, LocalError::NoFilesDir.to_string());
        return;
    }
    let mut keys = Vec::new();
    for item in files.as_list() {
        match files_dir::read(cx.files, item.as_str().unwrap_or_default()) {
            Ok(bytes) => {
                let text = String::from_utf8_lossy(&bytes);
                for line in text.split('\n') {
                    let line = line.strip_suffix('\r').unwrap_or(line);
                    if !line.is_empty() {
                        keys.push(V::str(item.origin, line));
                    }
                }
            }
            Err(e) => cx.diag.error(item.origin, e.to_string()),
        }
    }
    to.list_entry("sshAuthorizedKeys", files.origin)
        .extend(keys);
}

/// Replaces `contents` with the local file's text.
pub fn unit_contents(from: &V, to: &mut V, cx: &mut Ctx<'_>) {
    let Some(local) = from.get("contents_local") else {
        return;
    };
    let name = local.as_str().unwrap_or_default();
    if name.is_empty() {
        return;
    }
    match files_dir::read(cx.files, name) {
        Ok(bytes) => to.set(
            "contents",
            V::str(local.origin, String::from_utf8_lossy(&bytes).into_owned()),
        ),
        Err(e) => cx.diag.error(local.origin, e.to_string()),
    }
}
