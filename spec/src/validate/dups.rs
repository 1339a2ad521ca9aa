//! Duplicate entries in keyed lists. The later entry is the one reported.

use std::collections::HashSet;

use super::Ctx;
use crate::jp;
use crate::path::JsonPath;
use crate::types::{Config, Partition, Resource};

/// Reports every entry whose key was seen before in the same namespace.
fn check<'a>(
    ctx: &mut Ctx<'_>,
    seen: &mut HashSet<&'a str>,
    entries: impl IntoIterator<Item = (&'a str, JsonPath)>,
    what: &str,
) {
    for (key, at) in entries {
        if !seen.insert(key) {
            ctx.error(at, format!("duplicate entry defined: {what} {key:?} appears more than once; merge the entries or remove one"));
        }
    }
}

fn list<'a, T: 'a>(
    items: &'a [T],
    base: JsonPath,
    key: impl Fn(&'a T) -> &'a str + 'a,
) -> impl Iterator<Item = (&'a str, JsonPath)> + 'a {
    items
        .iter()
        .enumerate()
        .map(move |(i, t)| (key(t), base.index(i)))
}

fn strings(v: &[String], base: JsonPath) -> impl Iterator<Item = (&str, JsonPath)> {
    v.iter()
        .enumerate()
        .map(move |(i, s)| (s.as_str(), base.index(i)))
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
    check(
        ctx,
        &mut HashSet::new(),
        list(resources, base.clone(), source),
        what,
    );
    for (i, r) in resources.iter().enumerate() {
        check_headers(ctx, r, base.index(i));
    }
}

fn check_headers(ctx: &mut Ctx<'_>, r: &Resource, at: JsonPath) {
    let headers = list(&r.http_headers, at.key("httpHeaders"), |h| h.name.as_str());
    check(ctx, &mut HashSet::new(), headers, "HTTP header");
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
    check(
        ctx,
        &mut HashSet::new(),
        strings(&ign.proxy.no_proxy, jp!("ignition", "proxy", "noProxy")),
        "noProxy entry",
    );
    check_resources(
        ctx,
        &ign.security.tls.certificate_authorities,
        jp!("ignition", "security", "tls", "certificateAuthorities"),
        "certificate authority",
    );

    let mut kargs = HashSet::new();
    let k = &c.kernel_arguments;
    check(
        ctx,
        &mut kargs,
        strings(&k.should_exist, jp!("kernelArguments", "shouldExist")),
        "kernel argument",
    );
    check(
        ctx,
        &mut kargs,
        strings(
            &k.should_not_exist,
            jp!("kernelArguments", "shouldNotExist"),
        ),
        "kernel argument",
    );

    let p = &c.passwd;
    check(
        ctx,
        &mut HashSet::new(),
        list(&p.groups, jp!("passwd", "groups"), |g| g.name.as_str()),
        "group",
    );
    check(
        ctx,
        &mut HashSet::new(),
        list(&p.users, jp!("passwd", "users"), |u| u.name.as_str()),
        "user",
    );
    for (i, u) in p.users.iter().enumerate() {
        let at = jp!("passwd", "users", i);
        check(
            ctx,
            &mut HashSet::new(),
            strings(&u.groups, at.key("groups")),
            "group",
        );
        check(
            ctx,
            &mut HashSet::new(),
            strings(&u.ssh_authorized_keys, at.key("sshAuthorizedKeys")),
            "SSH key",
        );
    }

    let s = &c.storage;
    let mut nodes = HashSet::new();
    check(
        ctx,
        &mut nodes,
        list(&s.directories, jp!("storage", "directories"), |d| {
            d.path.as_str()
        }),
        "path",
    );
    check(
        ctx,
        &mut HashSet::new(),
        list(&s.disks, jp!("storage", "disks"), |d| d.device.as_str()),
        "disk",
    );
    for (d, disk) in s.disks.iter().enumerate() {
        let keys: Vec<String> = disk.partitions.iter().map(partition_key).collect();
        let at = jp!("storage", "disks", d, "partitions");
        check(
            ctx,
            &mut HashSet::new(),
            keys.iter()
                .enumerate()
                .map(|(i, k)| (k.as_str(), at.index(i))),
            "partition",
        );
    }
    check(
        ctx,
        &mut nodes,
        list(&s.files, jp!("storage", "files"), |f| f.path.as_str()),
        "path",
    );
    for (i, f) in s.files.iter().enumerate() {
        let at = jp!("storage", "files", i);
        for (k, r) in f.append.iter().enumerate() {
            check_headers(ctx, r, at.key("append").index(k));
        }
        check_headers(ctx, &f.contents, at.key("contents"));
    }
    check(
        ctx,
        &mut HashSet::new(),
        list(&s.filesystems, jp!("storage", "filesystems"), |f| {
            f.device.as_str()
        }),
        "filesystem device",
    );
    check(
        ctx,
        &mut nodes,
        list(&s.links, jp!("storage", "links"), |l| l.path.as_str()),
        "path",
    );
    check(
        ctx,
        &mut HashSet::new(),
        list(&s.luks, jp!("storage", "luks"), |l| l.name.as_str()),
        "LUKS volume",
    );
    for (i, l) in s.luks.iter().enumerate() {
        let at = jp!("storage", "luks", i);
        check(
            ctx,
            &mut HashSet::new(),
            list(&l.clevis.tang, at.key("clevis").key("tang"), |t| {
                t.url.as_str()
            }),
            "Tang server",
        );
        check_headers(ctx, &l.key_file, at.key("keyFile"));
        check(
            ctx,
            &mut HashSet::new(),
            strings(&l.open_options, at.key("openOptions")),
            "open option",
        );
    }
    check(
        ctx,
        &mut HashSet::new(),
        list(&s.raid, jp!("storage", "raid"), |r| r.name.as_str()),
        "RAID array",
    );
    for (i, r) in s.raid.iter().enumerate() {
        check(
            ctx,
            &mut HashSet::new(),
            strings(&r.devices, jp!("storage", "raid", i, "devices")),
            "RAID member",
        );
    }

    check(
        ctx,
        &mut HashSet::new(),
        list(&c.systemd.units, jp!("systemd", "units"), |u| {
            u.name.as_str()
        }),
        "unit",
    );
    for (i, u) in c.systemd.units.iter().enumerate() {
        let at = jp!("systemd", "units", i, "dropins");
        check(
            ctx,
            &mut HashSet::new(),
            list(&u.dropins, at, |d| d.name.as_str()),
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
}
