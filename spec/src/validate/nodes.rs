//! Files, directories and links: paths, modes, owners, and how they relate to each other and
//! to systemd units.

use std::collections::HashSet;

use super::ids::check_id;
use super::paths::check_path;
use super::resource::{self, SourceRule};
use super::Ctx;
use crate::jp;
use crate::path::JsonPath;
use crate::translate::SPECIAL_MODE_BITS;
use crate::types::{Config, NodeGroup, NodeUser, Storage};
use crate::version::SpecVersion;

/// A file, directory or link at the path a unit or drop-in will be written to.
pub(crate) fn systemd_conflicts(ctx: &mut Ctx<'_>, config: &Config) {
    let mut unit_paths = HashSet::new();
    for unit in &config.systemd.units {
        if unit.contents.as_deref().is_some_and(|c| !c.is_empty()) {
            unit_paths.insert(format!("/etc/systemd/system/{}", unit.name));
        }
        for d in &unit.dropins {
            if d.contents.as_deref().is_some_and(|c| !c.is_empty()) {
                unit_paths.insert(format!("/etc/systemd/system/{}.d/{}", unit.name, d.name));
            }
        }
    }
    if unit_paths.is_empty() {
        return;
    }
    let s = &config.storage;
    let nodes = s
        .files
        .iter()
        .map(|f| ("files", &f.path))
        .enumerate()
        .chain(
            s.directories
                .iter()
                .map(|d| ("directories", &d.path))
                .enumerate(),
        )
        .chain(s.links.iter().map(|l| ("links", &l.path)).enumerate());
    for (i, (list, path)) in nodes {
        if unit_paths.contains(path.as_str()) {
            ctx.error(
                jp!("storage", list, i, "path"),
                "path conflicts with systemd unit or dropin: write the unit through systemd.units instead, or pick another path",
            );
        }
    }
}

pub(crate) fn validate(ctx: &mut Ctx<'_>, s: &Storage) {
    through_links(ctx, s);
    for (i, d) in s.directories.iter().enumerate() {
        let at = jp!("storage", "directories", i);
        check_path(ctx, &d.path, || at.key("path"));
        check_mode(ctx, d.mode, &at);
        check_owner(ctx, &d.user, &d.group, &at);
    }
    for (i, f) in s.files.iter().enumerate() {
        let at = jp!("storage", "files", i);
        check_path(ctx, &f.path, || at.key("path"));
        check_mode(ctx, f.mode, &at);
        if f.overwrite == Some(true) && f.contents.source.is_none() {
            ctx.error(
                at.key("overwrite"),
                "overwrite must be false if source is unspecified: set contents.source, or drop overwrite",
            );
        }
        check_owner(ctx, &f.user, &f.group, &at);
        for (k, r) in f.append.iter().enumerate() {
            resource::validate(ctx, r, &at.key("append").index(k), SourceRule::Optional);
        }
        resource::validate(ctx, &f.contents, &at.key("contents"), SourceRule::Optional);
    }
    for (i, l) in s.links.iter().enumerate() {
        let at = jp!("storage", "links", i);
        check_path(ctx, &l.path, || at.key("path"));
        check_owner(ctx, &l.user, &l.group, &at);
    }
}

fn check_mode(ctx: &mut Ctx<'_>, mode: Option<i64>, at: &JsonPath) {
    let Some(mode) = mode else { return };
    if !(0..=0o7777).contains(&mode) {
        ctx.error(
            at.key("mode"),
            format!("illegal file mode {mode}: give the mode as a decimal number from 0 to 4095 (octal 07777); 0644 is 420"),
        );
    }
    if !ctx.since(SpecVersion::V3_6) && (mode & SPECIAL_MODE_BITS != 0) {
        ctx.warning(
            at.key("mode"),
            format!(
                "setuid/setgid/sticky bits are not supported in spec versions older than 3.6.0: they will be ignored; use spec 3.6.0 to apply them (mode {mode:#o} becomes {:#o})",
                mode & 0o777
            ),
        );
    }
}

fn check_owner(ctx: &mut Ctx<'_>, user: &NodeUser, group: &NodeGroup, at: &JsonPath) {
    check_id(ctx, user.id, || at.key("user").key("id"));
    check_id(ctx, group.id, || at.key("group").key("id"));
    if user.id.is_some() && user.name.as_deref().is_some_and(|n| !n.is_empty()) {
        ctx.error(
            at.key("user"),
            "cannot set both id and name: keep one of user.id and user.name",
        );
    }
    if group.id.is_some() && group.name.as_deref().is_some_and(|n| !n.is_empty()) {
        ctx.error(
            at.key("group"),
            "cannot set both id and name: keep one of group.id and group.name",
        );
    }
}

/// Rules that need the whole storage section: paths through configured links, link targets,
/// hard links to directories.
fn through_links(ctx: &mut Ctx<'_>, s: &Storage) {
    let links: HashSet<&str> = s.links.iter().map(|l| l.path.as_str()).collect();
    let via_link = |path: &str| -> Option<String> {
        path.match_indices('/')
            .map(|(i, _)| &path[..i])
            .find(|prefix| links.contains(prefix))
            .map(str::to_owned)
    };
    let mut found = Vec::new();
    if !links.is_empty() {
        for (i, d) in s.directories.iter().enumerate() {
            if let Some(l) = via_link(&d.path) {
                found.push((jp!("storage", "directories", i), "directory", l));
            }
        }
        for (i, f) in s.files.iter().enumerate() {
            if let Some(l) = via_link(&f.path) {
                found.push((jp!("storage", "files", i), "file", l));
            }
        }
    }
    for (at, what, link) in found {
        ctx.error(at, format!("{what} path includes link in config: {link} is a link; write to the link's target path instead"));
    }
    let dirs: HashSet<&str> = s.directories.iter().map(|d| d.path.as_str()).collect();
    for (i, l) in s.links.iter().enumerate() {
        let at = jp!("storage", "links", i);
        if let Some(link) = via_link(&l.path) {
            ctx.error(at.clone(), format!("link path includes link in config: {link} is a link; write to the link's target path instead"));
        }
        let target = l.target.as_deref().unwrap_or("");
        if target.is_empty() {
            if ctx.since(SpecVersion::V3_3) {
                ctx.error(
                    at.key("target"),
                    "link target is required: set target to the path the link points to",
                );
            }
            continue;
        }
        if l.hard != Some(true) {
            continue;
        }
        let resolved = if target.starts_with('/') {
            super::paths::clean(target)
        } else {
            super::paths::clean(&format!("{}/{}", l.path, target))
        };
        if dirs.contains(resolved.as_str()) {
            ctx.error(
                at.clone(),
                "hard link target is a directory: hard links can only point to files",
            );
        }
        let owner_fields = [
            (l.user.id.is_some(), "user", "id"),
            (l.user.name.is_some(), "user", "name"),
            (l.group.id.is_some(), "group", "id"),
            (l.group.name.is_some(), "group", "name"),
        ];
        for (set, obj, field) in owner_fields {
            if set {
                ctx.warning(at.key(obj).key(field), "user/group ignored for hard link: a hard link shares its target's owner; remove it");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::validate::test_support::*;

    fn cfg(v: &str, storage: &str) -> String {
        format!(r#"{{"ignition":{{"version":"{v}"}},"storage":{storage}}}"#)
    }

    #[test]
    fn paths_must_be_absolute_and_simple() {
        assert_error(
            &cfg("3.0.0", r#"{"files":[{"path":"etc/x"}]}"#),
            "$.storage.files.0.path",
            "path not absolute",
        );
        assert_error(
            &cfg("3.0.0", r#"{"directories":[{"path":"/a/"}]}"#),
            "$.storage.directories.0.path",
            "path is not fully simplified",
        );
        assert_error(
            &cfg("3.0.0", r#"{"files":[{}]}"#),
            "$.storage.files.0.path",
            "path not specified",
        );
    }

    #[test]
    fn modes_are_ranged_and_special_bits_warn_before_3_6() {
        assert_error(
            &cfg("3.3.0", r#"{"files":[{"path":"/a","mode":4096}]}"#),
            "$.storage.files.0.mode",
            "illegal file mode",
        );
        assert_error(
            &cfg("3.3.0", r#"{"files":[{"path":"/a","mode":-1}]}"#),
            "$.storage.files.0.mode",
            "illegal file mode",
        );
        assert_warning(
            &cfg("3.5.0", r#"{"files":[{"path":"/a","mode":2541}]}"#),
            "$.storage.files.0.mode",
            "setuid/setgid/sticky",
        );
        assert_clean(&cfg("3.6.0", r#"{"files":[{"path":"/a","mode":2541}]}"#));
    }

    #[test]
    fn overwrite_needs_a_source() {
        assert_error(
            &cfg("3.0.0", r#"{"files":[{"path":"/a","overwrite":true}]}"#),
            "$.storage.files.0.overwrite",
            "overwrite must be false",
        );
        assert_clean(&cfg(
            "3.0.0",
            r#"{"files":[{"path":"/a","overwrite":true,"contents":{"source":""}}]}"#,
        ));
    }

    #[test]
    fn owners_take_id_or_name() {
        assert_error(
            &cfg(
                "3.0.0",
                r#"{"files":[{"path":"/a","user":{"id":1,"name":"x"}}]}"#,
            ),
            "$.storage.files.0.user",
            "cannot set both id and name",
        );
        assert_error(
            &cfg(
                "3.0.0",
                r#"{"links":[{"path":"/a","target":"/b","group":{"id":1,"name":"x"}}]}"#,
            ),
            "$.storage.links.0.group",
            "cannot set both id and name",
        );
    }

    #[test]
    fn nothing_goes_through_a_configured_link() {
        let s = r#"{"links":[{"path":"/a","target":"/b"}],"files":[{"path":"/a/f"}],"directories":[{"path":"/a/d"}]}"#;
        assert_error(
            &cfg("3.0.0", s),
            "$.storage.files.0",
            "file path includes link in config",
        );
        assert_error(
            &cfg("3.0.0", s),
            "$.storage.directories.0",
            "directory path includes link in config",
        );
        let s = r#"{"links":[{"path":"/a","target":"/b"},{"path":"/a/l","target":"/c"}]}"#;
        assert_error(
            &cfg("3.0.0", s),
            "$.storage.links.1",
            "link path includes link in config",
        );
    }

    #[test]
    fn links_need_targets_from_3_3() {
        assert_error(
            &cfg("3.3.0", r#"{"links":[{"path":"/a"}]}"#),
            "$.storage.links.0.target",
            "link target is required",
        );
        assert_clean(&cfg("3.2.0", r#"{"links":[{"path":"/a"}]}"#));
    }

    #[test]
    fn hard_links_cannot_point_at_directories() {
        let s = r#"{"directories":[{"path":"/d"}],"links":[{"path":"/l","target":"/d","hard":true,"user":{"id":0}}]}"#;
        assert_error(
            &cfg("3.4.0", s),
            "$.storage.links.0",
            "hard link target is a directory",
        );
        assert_warning(
            &cfg("3.4.0", s),
            "$.storage.links.0.user.id",
            "user/group ignored for hard link",
        );
    }

    #[test]
    fn files_cannot_take_a_unit_path() {
        let c = r#"{"ignition":{"version":"3.0.0"},"storage":{"files":[{"path":"/etc/systemd/system/a.service"}]},"systemd":{"units":[{"name":"a.service","contents":"[Unit]\n"}]}}"#;
        assert_error(
            c,
            "$.storage.files.0.path",
            "path conflicts with systemd unit or dropin",
        );
    }
}
