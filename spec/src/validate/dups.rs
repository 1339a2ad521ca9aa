//! Duplicate entries in keyed lists. The later entry is the one reported.

use std::collections::HashSet;

use super::Ctx;
use crate::jp;
use crate::path::JsonPath;
use crate::types::{Config, Partition, Resource};

/// Reports every entry whose key was seen before in the same namespace. `keys` yields
/// (key, index in the list at `base`); paths are built only for the duplicates.
fn check<'a>(
    ctx: &mut Ctx<'_>,
    seen: &mut HashSet<&'a str>,
    keys: impl IntoIterator<Item = &'a str>,
    base: &JsonPath,
    what: &str,
) {
    for (i, key) in keys.into_iter().enumerate() {
        if !seen.insert(key) {
            ctx.error(
                base.index(i),
                format!("duplicate entry defined: {what} {key:?} appears more than once; merge the entries or remove one"),
            );
        }
    }
}

/// A fresh namespace for one list.
fn check_one<'a>(
    ctx: &mut Ctx<'_>,
    keys: impl IntoIterator<Item = &'a str>,
    base: &JsonPath,
    what: &str,
) {
    check(ctx, &mut HashSet::new(), keys, base, what);
}

fn strs(v: &[String]) -> impl Iterator<Item = &str> {
    v.iter().map(String::as_str)
}

fn source(r: &Resource) -> &str {
    r.source.as_deref().unwrap_or("")
}

fn partition_key(p: &Partition) -> String {
    match (p.number, p.label.as_deref()) {
        (0, Some(label)) => format!("label:{label}"),
        (0, None) => String::new(),
        (n, _) => format!("number:{n}"),
    }
}

fn check_resources(ctx: &mut Ctx<'_>, resources: &[Resource], base: JsonPath, what: &str) {
    check_one(ctx, resources.iter().map(source), &base, what);
    for (i, r) in resources.iter().enumerate() {
        if !r.http_headers.is_empty() {
            check_headers(ctx, r, base.index(i));
        }
    }
}

fn check_headers(ctx: &mut Ctx<'_>, r: &Resource, at: JsonPath) {
    let names = r.http_headers.iter().map(|h| h.name.as_str());
    check_one(ctx, names, &at.key("httpHeaders"), "HTTP header");
}

pub(crate) fn validate(ctx: &mut Ctx<'_>, c: &Config) {
    let ign = &c.ignition;
    check_resources(
        ctx,
        &ign.config.merge,
        jp!("ignition", "config", "merge"),
        "merged config",
    );
    check_headers(
        ctx,
        &ign.config.replace,
        jp!("ignition", "config", "replace"),
    );
    check_one(
        ctx,
        strs(&ign.proxy.no_proxy),
        &jp!("ignition", "proxy", "noProxy"),
        "noProxy entry",
    );
    let cas = &ign.security.tls.certificate_authorities;
    check_resources(
        ctx,
        cas,
        jp!("ignition", "security", "tls", "certificateAuthorities"),
        "certificate authority",
    );

    let k = &c.kernel_arguments;
    let mut kargs = HashSet::new();
    check(
        ctx,
        &mut kargs,
        strs(&k.should_exist),
        &jp!("kernelArguments", "shouldExist"),
        "kernel argument",
    );
    check(
        ctx,
        &mut kargs,
        strs(&k.should_not_exist),
        &jp!("kernelArguments", "shouldNotExist"),
        "kernel argument",
    );

    let p = &c.passwd;
    check_one(
        ctx,
        p.groups.iter().map(|g| g.name.as_str()),
        &jp!("passwd", "groups"),
        "group",
    );
    check_one(
        ctx,
        p.users.iter().map(|u| u.name.as_str()),
        &jp!("passwd", "users"),
        "user",
    );
    for (i, u) in p.users.iter().enumerate() {
        check_one(
            ctx,
            strs(&u.groups),
            &jp!("passwd", "users", i, "groups"),
            "group",
        );
        check_one(
            ctx,
            strs(&u.ssh_authorized_keys),
            &jp!("passwd", "users", i, "sshAuthorizedKeys"),
            "SSH key",
        );
    }

    let s = &c.storage;
    // Directories, files and links share one namespace; Ignition checks them in this order.
    let mut nodes = HashSet::new();
    check(
        ctx,
        &mut nodes,
        s.directories.iter().map(|d| d.path.as_str()),
        &jp!("storage", "directories"),
        "path",
    );
    check_one(
        ctx,
        s.disks.iter().map(|d| d.device.as_str()),
        &jp!("storage", "disks"),
        "disk",
    );
    for (d, disk) in s.disks.iter().enumerate() {
        let keys: Vec<String> = disk.partitions.iter().map(partition_key).collect();
        check_one(
            ctx,
            strs(&keys),
            &jp!("storage", "disks", d, "partitions"),
            "partition",
        );
    }
    check(
        ctx,
        &mut nodes,
        s.files.iter().map(|f| f.path.as_str()),
        &jp!("storage", "files"),
        "path",
    );
    for (i, f) in s.files.iter().enumerate() {
        for (k, r) in f
            .append
            .iter()
            .enumerate()
            .filter(|(_, r)| !r.http_headers.is_empty())
        {
            check_headers(ctx, r, jp!("storage", "files", i, "append", k));
        }
        if !f.contents.http_headers.is_empty() {
            check_headers(ctx, &f.contents, jp!("storage", "files", i, "contents"));
        }
    }
    check_one(
        ctx,
        s.filesystems.iter().map(|f| f.device.as_str()),
        &jp!("storage", "filesystems"),
        "filesystem device",
    );
    check(
        ctx,
        &mut nodes,
        s.links.iter().map(|l| l.path.as_str()),
        &jp!("storage", "links"),
        "path",
    );
    check_one(
        ctx,
        s.luks.iter().map(|l| l.name.as_str()),
        &jp!("storage", "luks"),
        "LUKS volume",
    );
    for (i, l) in s.luks.iter().enumerate() {
        let urls = l.clevis.tang.iter().map(|t| t.url.as_str());
        check_one(
            ctx,
            urls,
            &jp!("storage", "luks", i, "clevis", "tang"),
            "Tang server",
        );
        check_headers(ctx, &l.key_file, jp!("storage", "luks", i, "keyFile"));
        check_one(
            ctx,
            strs(&l.open_options),
            &jp!("storage", "luks", i, "openOptions"),
            "open option",
        );
    }
    check_one(
        ctx,
        s.raid.iter().map(|r| r.name.as_str()),
        &jp!("storage", "raid"),
        "RAID array",
    );
    for (i, r) in s.raid.iter().enumerate() {
        check_one(
            ctx,
            strs(&r.devices),
            &jp!("storage", "raid", i, "devices"),
            "RAID member",
        );
    }

    let units = &c.systemd.units;
    check_one(
        ctx,
        units.iter().map(|u| u.name.as_str()),
        &jp!("systemd", "units"),
        "unit",
    );
    for (i, u) in units.iter().enumerate() {
        let names = u.dropins.iter().map(|d| d.name.as_str());
        check_one(
            ctx,
            names,
            &jp!("systemd", "units", i, "dropins"),
            "drop-in",
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::validate::test_support::*;

    #[test]
    fn files_directories_and_links_share_one_namespace() {
        let c = r#"{"ignition":{"version":"3.0.0"},"storage":{"directories":[{"path":"/a"}],"files":[{"path":"/a"}],"links":[{"path":"/b","target":"/c"},{"path":"/b","target":"/d"}]}}"#;
        assert_error(c, "$.storage.files.0", "duplicate entry defined");
        assert_error(c, "$.storage.links.1", "duplicate entry defined");
    }

    #[test]
    fn keyed_lists_report_the_later_entry() {
        let c = r#"{"ignition":{"version":"3.3.0"},"passwd":{"users":[{"name":"a"},{"name":"a"}]},"kernelArguments":{"shouldExist":["x"],"shouldNotExist":["x"]},"systemd":{"units":[{"name":"a.service"},{"name":"a.service"}]}}"#;
        assert_error(c, "$.passwd.users.1", "duplicate entry defined");
        assert_error(
            c,
            "$.kernelArguments.shouldNotExist.0",
            "duplicate entry defined",
        );
        assert_error(c, "$.systemd.units.1", "duplicate entry defined");
    }

    #[test]
    fn every_keyed_list_is_checked() {
        let c = r#"{"ignition":{"version":"3.4.0","config":{"merge":[{"source":"data:,a"},{"source":"data:,a"}]}},
            "passwd":{"users":[{"name":"u","sshAuthorizedKeys":["k","k"],"groups":["g","g"]}],"groups":[{"name":"g"},{"name":"g"}]},
            "storage":{"disks":[{"device":"/dev/a","partitions":[{"label":"x"},{"label":"x"}]},{"device":"/dev/a"}],
              "filesystems":[{"device":"/dev/b","format":"ext4"},{"device":"/dev/b","format":"ext4"}],
              "luks":[{"name":"l","device":"/dev/c","openOptions":["o","o"],"clevis":{"tang":[{"url":"http://t","thumbprint":"x"},{"url":"http://t","thumbprint":"x"}]}}],
              "raid":[{"name":"r","level":"raid1","devices":["/dev/d","/dev/d"]},{"name":"r","level":"raid1","devices":["/dev/e"]}]},
            "systemd":{"units":[{"name":"a.service","dropins":[{"name":"x.conf"},{"name":"x.conf"}]}]}}"#;
        for path in [
            "$.ignition.config.merge.1",
            "$.passwd.users.0.sshAuthorizedKeys.1",
            "$.passwd.users.0.groups.1",
            "$.passwd.groups.1",
            "$.storage.disks.1",
            "$.storage.disks.0.partitions.1",
            "$.storage.filesystems.1",
            "$.storage.luks.0.openOptions.1",
            "$.storage.luks.0.clevis.tang.1",
            "$.storage.raid.0.devices.1",
            "$.storage.raid.1",
            "$.systemd.units.0.dropins.1",
        ] {
            assert_error(c, path, "duplicate entry defined");
        }
    }
}
