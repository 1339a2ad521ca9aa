//! The filesystems a config mounts under the target root, in mount order: what the mount
//! stage mounts and unmounts, and what the plan looks at to decide whether it has work.

use std::path::{Component, Path};

use kindling_spec::types::Filesystem;

/// A filesystem to mount: where in the config, device, format, path in the target system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Mount<'a> {
    pub at: String,
    pub fs: &'a Filesystem,
    pub format: &'a str,
    pub path: &'a str,
}

/// The mountable filesystems in mount order: fewest path components first, config order
/// among equals (Ignition's order).
pub(crate) fn mounts(filesystems: &[Filesystem]) -> Vec<Mount<'_>> {
    let mut out: Vec<Mount<'_>> = filesystems
        .iter()
        .enumerate()
        .filter_map(|(i, fs)| {
            let path = fs.path.as_deref().filter(|p| !p.is_empty())?;
            let format = fs.format.as_deref()?;
            if matches!(format, "" | "none" | "swap") {
                return None;
            }
            Some(Mount {
                at: format!("$.storage.filesystems.{i}"),
                fs,
                format,
                path,
            })
        })
        .collect();
    out.sort_by_key(|m| {
        Path::new(m.path)
            .components()
            .filter(|c| matches!(c, Component::Normal(_)))
            .count()
    });
    out
}
