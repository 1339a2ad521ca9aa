//! The files stage against real roots: the real `kindling` binary runs `fetch-offline` and
//! `files` on a config, and the tests read the tree it left. Every field of files,
//! directories, links, users, groups and units is covered, and so are the ways it must fail:
//! bad content, unknown owners, nodes in the way, and links that try to lead out of the root.
//! Each failure must exit non-zero with a clear message and leave the sentinel directory
//! beside the root untouched.
//!
//! These tests need root (useradd, chown); without it they skip, unless CI is set.

use crate::common;
use crate::support;

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::os::unix::fs::{symlink, MetadataExt, PermissionsExt};
use std::path::PathBuf;

use common::{Outcome, TreeNode};
use serde_json::{json, Value};
use sha2::Digest;

/// A root, a sentinel directory beside it, and a work dir for run files.
struct Case {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    root: PathBuf,
    outside: PathBuf,
    outside_before: BTreeMap<String, TreeNode>,
    runs: usize,
}

impl Case {
    fn new() -> Self {
        let (tmp, dir, root) = common::dir_with_root("root");
        let outside = dir.join("outside");
        fs::create_dir(&outside).expect("mkdir outside");
        fs::write(outside.join("keep.txt"), "sentinel\n").expect("sentinel");
        fs::create_dir(outside.join("sub")).expect("mkdir sentinel sub");
        let outside_before = common::tree(&outside);
        Self {
            _tmp: tmp,
            dir,
            root,
            outside,
            outside_before,
            runs: 0,
        }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel.trim_start_matches('/'))
    }

    /// Runs fetch-offline and files on `config`; fetch-offline must succeed.
    fn run_with(&mut self, config: &Value, cmdline: &str, env: &[(&str, &str)]) -> Outcome {
        self.run_after("fetch-offline", config, cmdline, env)
    }

    /// Runs `fetch_stage` and files on `config`; the fetch stage must succeed.
    fn run_after(
        &mut self,
        fetch_stage: &str,
        config: &Value,
        cmdline: &str,
        env: &[(&str, &str)],
    ) -> Outcome {
        self.runs += 1;
        let work = self.dir.join(format!("work{}", self.runs));
        fs::create_dir_all(&work).expect("work dir");
        let file = work.join("config.ign");
        fs::write(&file, serde_json::to_vec_pretty(config).expect("json")).expect("config");
        let (fetch, files) =
            common::kindling_files_after(fetch_stage, &file, &self.root, &work, cmdline, env);
        files.unwrap_or_else(|| panic!("{fetch_stage} failed:\n{fetch}"))
    }

    fn run(&mut self, config: &Value) -> Outcome {
        self.run_with(config, "", &[])
    }

    /// Runs the fetch stage (online, for contents on a server), then files.
    fn run_online(&mut self, config: &Value) -> Outcome {
        self.run_after("fetch", config, "", &[])
    }

    /// Like [`Case::fails`], for a config whose contents come from a server.
    fn fails_online(&mut self, config: &Value, message: &str) -> Outcome {
        let out = self.run_online(config);
        self.judge_failure(out, message)
    }

    fn ok(&mut self, config: &Value) -> Outcome {
        let out = self.run(config);
        assert!(out.succeeded(), "files failed:\n{out}");
        self.assert_outside_untouched();
        out
    }

    /// The stage must fail with `message` in its error, and touch nothing outside the root.
    fn fails(&mut self, config: &Value, message: &str) -> Outcome {
        let out = self.run(config);
        self.judge_failure(out, message)
    }

    fn judge_failure(&self, out: Outcome, message: &str) -> Outcome {
        assert!(!out.succeeded(), "files should have failed:\n{out}");
        assert!(
            out.stderr.contains("error: files stage failed"),
            "no clear error:\n{out}"
        );
        // A stage failure always says why (issue 14).
        assert!(
            out.stderr
                .contains("error: files stage failed\n  caused by: "),
            "the failure names no cause:\n{out}"
        );
        assert!(
            out.stderr.contains(message),
            "the error does not say {message:?}:\n{out}"
        );
        self.assert_outside_untouched();
        out
    }

    fn assert_outside_untouched(&self) {
        assert_eq!(
            common::tree(&self.outside),
            self.outside_before,
            "something was written outside the root"
        );
    }

    fn node(&self, rel: &str) -> TreeNode {
        common::tree(&self.root)
            .remove(rel.trim_start_matches('/'))
            .unwrap_or_else(|| panic!("{rel} is missing from the root"))
    }

    fn read(&self, rel: &str) -> String {
        fs::read_to_string(self.path(rel)).unwrap_or_else(|e| panic!("reading {rel}: {e}"))
    }

    fn line_of(&self, file: &str, name: &str) -> String {
        self.read(file)
            .lines()
            .find(|l| l.starts_with(&format!("{name}:")))
            .unwrap_or_else(|| panic!("{name} is not in {file}:\n{}", self.read(file)))
            .to_owned()
    }
}

fn config(body: Value) -> Value {
    let mut c = json!({"ignition": {"version": "3.6.0"}});
    if let (Some(c), Some(b)) = (c.as_object_mut(), body.as_object()) {
        for (k, v) in b {
            c.insert(k.clone(), v.clone());
        }
    }
    c
}

fn data(bytes: &[u8]) -> String {
    use base64::Engine as _;
    format!(
        "data:;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).expect("gzip");
    enc.finish().expect("gzip")
}

fn sha512(bytes: &[u8]) -> String {
    format!("sha512-{}", hex::encode(sha2::Sha512::digest(bytes)))
}

fn sha256(bytes: &[u8]) -> String {
    format!("sha256-{}", hex::encode(sha2::Sha256::digest(bytes)))
}

macro_rules! root_only {
    ($name:literal) => {
        if !common::require_root($name) {
            return;
        }
    };
}

#[test]
fn files_get_contents_hashes_gzip_appends_modes_and_owners() {
    root_only!("files_get_contents_hashes_gzip_appends_modes_and_owners");
    let mut case = Case::new();
    fs::create_dir_all(case.path("/etc")).expect("etc");
    fs::write(case.path("/etc/keep"), "old").expect("keep");
    fs::set_permissions(case.path("/etc/keep"), fs::Permissions::from_mode(0o600)).expect("chmod");
    std::os::unix::fs::chown(case.path("/etc/keep"), Some(7), Some(8)).expect("chown");
    fs::write(case.path("/etc/replace"), "old").expect("replace");
    std::os::unix::fs::chown(case.path("/etc/replace"), Some(7), Some(8)).expect("chown");
    let tool = b"#!/bin/sh\necho tool\n".repeat(100);
    case.ok(&config(json!({"storage": {"files": [
        {"path": "/etc/motd", "mode": 0o640, "user": {"id": 1234}, "group": {"name": "users"},
         "contents": {"source": "data:,hello%0A"}},
        {"path": "/opt/app/bin/tool", "mode": 0o4755,
         "contents": {"source": data(&gzip(&tool)), "compression": "gzip",
                      "verification": {"hash": sha512(&tool)}}},
        {"path": "/etc/checked", "contents": {"source": "data:,abc", "verification": {"hash": sha256(b"abc")}}},
        {"path": "/etc/joined", "contents": {"source": "data:,a"},
         "append": [{"source": "data:,b"}, {"source": data(&gzip(b"c")), "compression": "gzip"}]},
        {"path": "/var/lib/empty"},
        {"path": "/etc/keep", "append": [{"source": "data:,+new"}]},
        {"path": "/etc/replace", "overwrite": true, "contents": {"source": "data:,new"}}
    ]}})));
    let node = |p: &str| case.node(p);
    let motd = node("/etc/motd");
    assert_eq!((motd.mode, motd.uid, motd.gid), (0o640, 1234, 100));
    assert_eq!(motd.data, b"hello\n");
    let t = node("/opt/app/bin/tool");
    assert_eq!(t.data, tool);
    assert_eq!(t.mode, 0o4755, "setuid must survive the chown");
    assert_eq!(node("/opt/app/bin").mode, 0o755, "parents are 0755");
    assert_eq!((node("/opt").uid, node("/opt").gid), (0, 0));
    assert_eq!(node("/etc/checked").data, b"abc");
    assert_eq!(node("/etc/joined").data, b"abc");
    let empty = node("/var/lib/empty");
    assert_eq!(
        (empty.kind, empty.mode, empty.data.len()),
        ("file", 0o644, 0)
    );
    let keep = node("/etc/keep");
    assert_eq!(
        (keep.data.as_slice(), keep.mode, keep.uid, keep.gid),
        (&b"old+new"[..], 0o600, 7, 8)
    );
    let replaced = node("/etc/replace");
    assert_eq!(
        (replaced.data.as_slice(), replaced.mode, replaced.uid),
        (&b"new"[..], 0o644, 0)
    );
    let leftovers: Vec<String> = common::tree(&case.root)
        .into_keys()
        .filter(|p| p.contains(".kindling.") && p.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

#[test]
fn directories_and_links_get_modes_owners_and_targets() {
    root_only!("directories_and_links_get_modes_owners_and_targets");
    let mut case = Case::new();
    fs::create_dir_all(case.path("/srv/exist")).expect("exist");
    fs::set_permissions(case.path("/srv/exist"), fs::Permissions::from_mode(0o711)).expect("chmod");
    std::os::unix::fs::chown(case.path("/srv/exist"), Some(3), Some(4)).expect("chown");
    fs::create_dir_all(case.path("/srv/plain")).expect("plain");
    fs::set_permissions(case.path("/srv/plain"), fs::Permissions::from_mode(0o750)).expect("chmod");
    symlink("/etc/motd", case.path("/srv/same")).expect("same");
    case.ok(&config(json!({"storage": {
        "directories": [
            {"path": "/srv/exist", "mode": 0o700},
            {"path": "/srv/plain"},
            {"path": "/srv/shared", "mode": 0o3775, "group": {"name": "users"}},
            {"path": "/deep/a/b/c"},
            {"path": "/home/tmp", "mode": 0o1777, "user": {"id": 42}}
        ],
        "files": [{"path": "/etc/motd", "contents": {"source": "data:,m"}},
                  {"path": "/deep/a/b/c/d/file", "contents": {"source": "data:,deep"}}],
        "links": [
            {"path": "/etc/localtime", "target": "../usr/share/zoneinfo/UTC"},
            {"path": "/usr/bin/motd", "target": "/etc/motd", "user": {"id": 5}, "group": {"id": 6}},
            {"path": "/srv/same", "target": "/x/../etc/motd"},
            {"path": "/hard/motd", "target": "/deep/a/b/c/d/file", "hard": true}
        ]
    }})));
    let n = |p: &str| case.node(p);
    let exist = n("/srv/exist");
    assert_eq!(
        (exist.mode, exist.uid, exist.gid),
        (0o700, 3, 4),
        "mode changes, owner stays"
    );
    assert_eq!(
        n("/srv/plain").mode,
        0o750,
        "an unset mode keeps an existing directory's mode"
    );
    let shared = n("/srv/shared");
    assert_eq!((shared.mode, shared.uid, shared.gid), (0o3775, 0, 100));
    assert_eq!(n("/deep/a/b/c").mode, 0o755);
    assert_eq!(n("/deep/a").mode, 0o755);
    let tmp = n("/home/tmp");
    assert_eq!((tmp.mode, tmp.uid), (0o1777, 42));
    let lt = n("/etc/localtime");
    assert_eq!(
        (lt.kind, lt.data.as_slice()),
        ("link", &b"../usr/share/zoneinfo/UTC"[..])
    );
    let abs = n("/usr/bin/motd");
    assert_eq!(
        (abs.kind, abs.data.as_slice(), abs.uid, abs.gid),
        ("link", &b"/etc/motd"[..], 5, 6)
    );
    assert_eq!(
        n("/srv/same").data,
        b"/etc/motd",
        "an equal existing link is kept"
    );
    let hard = n("/hard/motd");
    assert_eq!(
        (hard.kind, hard.nlink, hard.data.as_slice()),
        ("file", 2, &b"deep"[..])
    );
    assert_eq!(
        fs::metadata(case.path("/hard/motd")).expect("meta").ino(),
        fs::metadata(case.path("/deep/a/b/c/d/file"))
            .expect("meta")
            .ino()
    );
}

#[test]
fn users_and_groups_get_every_field() {
    root_only!("users_and_groups_get_every_field");
    let mut case = Case::new();
    let mut group = fs::OpenOptions::new()
        .append(true)
        .open(case.path("/etc/group"))
        .expect("group");
    writeln!(group, "old:x:1600:").expect("group");
    let mut gshadow = fs::OpenOptions::new()
        .append(true)
        .open(case.path("/etc/gshadow"))
        .expect("gshadow");
    writeln!(gshadow, "old:!::").expect("gshadow");
    let mut passwd = fs::OpenOptions::new()
        .append(true)
        .open(case.path("/etc/passwd"))
        .expect("passwd");
    writeln!(passwd, "gone:x:1700:100::/home/gone:/bin/sh").expect("passwd");
    let mut shadow = fs::OpenOptions::new()
        .append(true)
        .open(case.path("/etc/shadow"))
        .expect("shadow");
    writeln!(shadow, "gone:!:19000::::::").expect("shadow");
    fs::create_dir_all(case.path("/home/gone")).expect("home");
    std::os::unix::fs::chown(case.path("/home/gone"), Some(1700), Some(100)).expect("chown");

    case.ok(&config(json!({"passwd": {
        "groups": [
            {"name": "devs", "gid": 2000},
            {"name": "svc", "system": true, "passwordHash": "$6$g$grouphash"},
            {"name": "old", "shouldExist": false},
            {"name": "never", "shouldExist": false}
        ],
        "users": [
            {"name": "core", "uid": 1001, "gecos": "Core User", "passwordHash": "$6$s$corehash",
             "sshAuthorizedKeys": ["ssh-ed25519 AAAA one", "ssh-rsa BBBB two"],
             "groups": ["devs", "svc"], "shell": "/bin/bash", "homeDir": "/home/core"},
            {"name": "daemon1", "system": true, "noCreateHome": true, "noUserGroup": true,
             "noLogInit": true, "primaryGroup": "svc", "homeDir": "/var/lib/daemon1"},
            {"name": "root", "passwordHash": "$6$r$roothash", "sshAuthorizedKeys": ["ssh-ed25519 RRRR root"]},
            {"name": "gone", "shouldExist": false},
            {"name": "ghost", "shouldExist": false}
        ]
    }})));
    assert_eq!(case.line_of("/etc/group", "devs"), "devs:x:2000:core");
    assert!(case.line_of("/etc/group", "svc").ends_with(":core"));
    assert!(
        !case.read("/etc/group").contains("old:"),
        "old must be gone"
    );
    assert!(case
        .line_of("/etc/gshadow", "svc")
        .starts_with("svc:$6$g$grouphash:"));
    assert_eq!(
        case.line_of("/etc/passwd", "core"),
        "core:x:1001:100:Core User:/home/core:/bin/bash"
    );
    let daemon = case.line_of("/etc/passwd", "daemon1");
    let fields: Vec<&str> = daemon.split(':').collect();
    assert!(
        fields[2].parse::<u32>().expect("uid") < 1000,
        "a system uid: {daemon}"
    );
    assert_eq!(fields[3], svc_gid(&case), "primaryGroup");
    assert_eq!(fields[5], "/var/lib/daemon1");
    assert!(!case.path("/var/lib/daemon1").exists(), "noCreateHome");
    assert!(case
        .line_of("/etc/shadow", "core")
        .starts_with("core:$6$s$corehash:"));
    assert!(case
        .line_of("/etc/shadow", "root")
        .starts_with("root:$6$r$roothash:"));
    assert!(!case.read("/etc/passwd").contains("gone:"));
    assert!(
        !case.path("/home/gone").exists(),
        "userdel --remove takes the home"
    );

    let keys = case.node("/home/core/.ssh/authorized_keys.d/kindling");
    assert_eq!(keys.data, b"ssh-ed25519 AAAA one\nssh-rsa BBBB two\n");
    assert_eq!((keys.mode, keys.uid, keys.gid), (0o600, 1001, 100));
    for dir in ["/home/core/.ssh", "/home/core/.ssh/authorized_keys.d"] {
        let d = case.node(dir);
        assert_eq!((d.mode, d.uid, d.gid), (0o700, 1001, 100), "{dir}");
    }
    let root_keys = case.node("/root/.ssh/authorized_keys.d/kindling");
    assert_eq!((root_keys.uid, root_keys.mode), (0, 0o600));
}

/// Ignition 2.26 (not 2.14): a group without passwordHash gets groupadd's own gshadow
/// default, not "*"; a group that exists already is changed with groupmod, not refused.
#[test]
fn groups_follow_ignition_2_26() {
    root_only!("groups_follow_ignition_2_26");
    let mut case = Case::new();
    let mut group = fs::OpenOptions::new()
        .append(true)
        .open(case.path("/etc/group"))
        .expect("group");
    writeln!(group, "there:x:1600:").expect("group");
    let mut gshadow = fs::OpenOptions::new()
        .append(true)
        .open(case.path("/etc/gshadow"))
        .expect("gshadow");
    writeln!(gshadow, "there:!::").expect("gshadow");
    let out = case.ok(&config(json!({"passwd": {"groups": [
        {"name": "plain"},
        {"name": "empty", "passwordHash": ""},
        {"name": "there", "gid": 1650, "passwordHash": "$6$t$therehash", "system": true}
    ]}})));
    for name in ["plain", "empty"] {
        let line = case.line_of("/etc/gshadow", name);
        assert!(
            line.starts_with(&format!("{name}:!:")),
            "groupadd's default, not \"*\": {line}"
        );
    }
    assert_eq!(case.line_of("/etc/group", "there"), "there:x:1650:");
    assert!(case
        .line_of("/etc/gshadow", "there")
        .starts_with("there:$6$t$therehash:"));
    assert!(out.stderr.contains("modified group there"), "{out}");
}

fn svc_gid(case: &Case) -> String {
    case.line_of("/etc/group", "svc")
        .split(':')
        .nth(2)
        .expect("gid")
        .to_owned()
}

#[test]
fn plain_authorized_keys_by_kernel_argument_or_environment() {
    root_only!("plain_authorized_keys_by_kernel_argument_or_environment");
    let cfg = config(json!({"passwd": {"users": [
        {"name": "root", "sshAuthorizedKeys": ["ssh-ed25519 KEY root"]}]}}));
    let mut by_karg = Case::new();
    let out = by_karg.run_with(&cfg, "quiet kindling.ssh.authorized_keys=plain", &[]);
    assert!(out.succeeded(), "{out}");
    assert_eq!(
        by_karg.read("/root/.ssh/authorized_keys"),
        "ssh-ed25519 KEY root\n"
    );
    assert!(!by_karg.path("/root/.ssh/authorized_keys.d").exists());

    let mut by_env = Case::new();
    let out = by_env.run_with(&cfg, "", &[("KINDLING_SSH_AUTHORIZED_KEYS", "plain")]);
    assert!(out.succeeded(), "{out}");
    assert_eq!(by_env.node("/root/.ssh/authorized_keys").mode, 0o600);

    let mut karg_wins = Case::new();
    let out = karg_wins.run_with(
        &cfg,
        "kindling.ssh.authorized_keys=fragment",
        &[("KINDLING_SSH_AUTHORIZED_KEYS", "plain")],
    );
    assert!(out.succeeded(), "{out}");
    assert!(karg_wins
        .path("/root/.ssh/authorized_keys.d/kindling")
        .exists());

    let mut bad = Case::new();
    let out = bad.run_with(&cfg, "kindling.ssh.authorized_keys=both", &[]);
    assert!(!out.succeeded());
    assert!(out.stderr.contains("use fragment or plain"), "{out}");
}

#[test]
fn units_dropins_presets_and_masks() {
    root_only!("units_dropins_presets_and_masks");
    let mut case = Case::new();
    let sys = case.path("/etc/systemd/system");
    fs::create_dir_all(sys.join("multi-user.target.wants")).expect("wants");
    fs::create_dir_all(case.path("/usr/lib/systemd/system")).expect("lib");
    fs::write(
        case.path("/usr/lib/systemd/system/old.service"),
        "[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n",
    )
    .expect("old");
    symlink(
        "/usr/lib/systemd/system/old.service",
        sys.join("multi-user.target.wants/old.service"),
    )
    .expect("link");
    symlink(
        "/usr/lib/systemd/system/old.service",
        sys.join("old-alias.service"),
    )
    .expect("alias");
    symlink("/dev/null", sys.join("unmask.service")).expect("masked");
    fs::create_dir_all(case.path("/etc/systemd/system-preset")).expect("preset dir");
    fs::write(case.path(PRESET), "enable earlier.service\n").expect("preset");
    let out = case.ok(&config(json!({"systemd": {"units": [
        {"name": "hello.service", "enabled": true,
         "contents": "[Service]\nExecStart=/bin/echo hi\n[Install]\nWantedBy=multi-user.target\n",
         "dropins": [{"name": "10-env.conf", "contents": "[Service]\nEnvironment=A=1\n"},
                     {"name": "20-empty.conf", "contents": ""},
                     {"name": "30-unset.conf"}]},
        {"name": "noinstall.service", "enabled": true, "contents": "[Service]\nExecStart=/bin/true\n"},
        {"name": "old.service", "enabled": false},
        {"name": "getty@tty2.service", "enabled": true},
        {"name": "getty@tty3.service", "enabled": true},
        {"name": "masked.service", "mask": true, "contents": "[Service]\nExecStart=/bin/true\n"},
        {"name": "unmask.service", "mask": false},
        {"name": "dropin-only.service", "dropins": [{"name": "x.conf", "contents": "[Unit]\n"}]}
    ]}})));
    let hello = case.node("/etc/systemd/system/hello.service");
    assert_eq!((hello.mode, hello.uid), (0o644, 0));
    assert_eq!(
        case.read("/etc/systemd/system/hello.service.d/10-env.conf"),
        "[Service]\nEnvironment=A=1\n"
    );
    assert_eq!(
        case.read("/etc/systemd/system/hello.service.d/20-empty.conf"),
        ""
    );
    assert!(!case
        .path("/etc/systemd/system/hello.service.d/30-unset.conf")
        .exists());
    assert!(case
        .path("/etc/systemd/system/dropin-only.service.d/x.conf")
        .exists());
    assert!(!case
        .path("/etc/systemd/system/dropin-only.service")
        .exists());
    assert_eq!(
        case.node("/etc/systemd/system/masked.service").data,
        b"/dev/null"
    );
    assert!(
        fs::symlink_metadata(sys.join("unmask.service")).is_err(),
        "unmasked"
    );
    assert!(
        fs::symlink_metadata(sys.join("old-alias.service")).is_err(),
        "disabled: alias removed"
    );
    assert!(
        !sys.join("multi-user.target.wants").exists(),
        "emptied .wants removed"
    );
    assert_eq!(
        case.read(PRESET),
        // Sorted as Ignition 2.26 sorts them ("<unit>-enabled" / "<unit>-disabled").
        "enable earlier.service\nenable getty@.service tty2 tty3\nenable hello.service\nenable noinstall.service\ndisable old.service\n"
    );
    assert!(
        out.stderr.contains(
            "unit noinstall.service is enabled, but its unit file has no [Install] section"
        ),
        "{out}"
    );
    assert!(
        !out.stderr.contains("unit hello.service is enabled, but"),
        "{out}"
    );
}

/// Ignition 2.26 (not 2.14): `enabled: false` writes a disable preset only for a unit that
/// `systemctl --root … is-enabled` reports as enabled (static included), after removing its
/// enablement links; a unit that is disabled, masked or missing gets no line.
#[test]
fn disable_presets_only_for_enabled_units() {
    root_only!("disable_presets_only_for_enabled_units");
    let mut case = Case::new();
    let lib = case.path("/usr/lib/systemd/system");
    let sys = case.path("/etc/systemd/system");
    fs::create_dir_all(&lib).expect("lib");
    fs::create_dir_all(sys.join("multi-user.target.wants")).expect("wants");
    let installable = "[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n";
    for unit in ["on.service", "off.service", "echo@.service"] {
        fs::write(lib.join(unit), installable).expect("unit");
    }
    fs::write(
        lib.join("static.service"),
        "[Service]\nExecStart=/bin/true\n",
    )
    .expect("static");
    fs::write(lib.join("hidden.service"), installable).expect("hidden");
    symlink("/dev/null", sys.join("hidden.service")).expect("mask");
    for unit in ["on.service", "echo@a.service"] {
        let target = if unit == "on.service" {
            "on.service"
        } else {
            "echo@.service"
        };
        symlink(
            format!("/usr/lib/systemd/system/{target}"),
            sys.join("multi-user.target.wants").join(unit),
        )
        .expect("wants link");
    }
    case.ok(&config(json!({"systemd": {"units": [
        {"name": "on.service", "enabled": false},
        {"name": "off.service", "enabled": false},
        {"name": "static.service", "enabled": false},
        {"name": "hidden.service", "enabled": false},
        {"name": "missing.service", "enabled": false},
        {"name": "echo@a.service", "enabled": false},
        {"name": "echo@b.service", "enabled": false}
    ]}})));
    assert_eq!(
        case.read(PRESET),
        "disable echo@.service a\ndisable on.service\ndisable static.service\n"
    );
    assert!(
        !sys.join("multi-user.target.wants").exists(),
        "the enablement links of on.service and echo@a.service are gone"
    );
    assert_eq!(
        case.node("/etc/systemd/system/hidden.service").data,
        b"/dev/null",
        "a masked unit is left alone"
    );

    // Nothing enabled among the units: no preset file at all.
    let mut none = Case::new();
    none.ok(&config(json!({"systemd": {"units": [
        {"name": "missing.service", "enabled": false}
    ]}})));
    assert!(
        !none.path(PRESET).exists(),
        "no disable line for a unit that does not exist"
    );
}

const PRESET: &str = "/etc/systemd/system-preset/20-kindling.preset";

#[test]
fn the_result_report_is_private_and_a_second_run_keeps_the_first() {
    root_only!("the_result_report_is_private_and_a_second_run_keeps_the_first");
    let mut case = Case::new();
    let first = case.ok(&config(
        json!({"storage": {"files": [{"path": "/a", "contents": {"source": "data:,a"}}]}}),
    ));
    assert!(
        !first.stderr.contains("provisioning already ran"),
        "{first}"
    );
    let report = case.node("/etc/.kindling-result.json");
    assert_eq!((report.mode, report.uid), (0o600, 0));
    let v: Value = serde_json::from_slice(&report.data).expect("report json");
    assert!(
        v["configDigest"]
            .as_str()
            .is_some_and(|d| d.starts_with("sha512-")),
        "{v}"
    );
    assert_eq!(v["userConfigProvided"], true);
    assert!(
        v["source"]
            .as_str()
            .is_some_and(|s| s.contains("config.ign")),
        "{v}"
    );
    let boot = fs::read_to_string("/proc/sys/kernel/random/boot_id").expect("boot id");
    assert_eq!(v["provisioningBootId"], boot.trim());
    assert!(
        v["provisioningDate"]
            .as_str()
            .is_some_and(|d| d.ends_with('Z')),
        "{v}"
    );
    assert_eq!(v["stages"]["files"]["files"], 1);
    // The policy in force, and what the stages before files did (here: nothing to do).
    assert!(
        v["policy"]
            .as_str()
            .is_some_and(|p| p.starts_with("require ")),
        "{v}"
    );
    assert!(
        v["stages"]["disks"]["skipped"]
            .as_str()
            .is_some_and(|why| !why.is_empty()),
        "{v}"
    );

    let second = case.ok(&config(
        json!({"storage": {"directories": [{"path": "/d"}]}}),
    ));
    assert!(
        second
            .stderr
            .contains("provisioning already ran on this root"),
        "{second}"
    );
    let prev: Value =
        serde_json::from_str(&case.read("/etc/.kindling-result.json.prev")).expect("prev");
    assert_eq!(prev["stages"]["files"]["files"], 1);
    assert_eq!(case.node("/etc/.kindling-result.json.prev").mode, 0o600);
    let now: Value = serde_json::from_str(&case.read("/etc/.kindling-result.json")).expect("now");
    assert_eq!(now["stages"]["files"]["directories"], 1);
}

#[test]
fn a_hash_mismatch_fails_and_writes_nothing() {
    root_only!("a_hash_mismatch_fails_and_writes_nothing");
    let mut case = Case::new();
    let out = case.fails(
        &config(json!({"storage": {"files": [{"path": "/etc/app.conf",
            "contents": {"source": "data:,secret-value", "verification": {"hash": sha512(b"other")}}}]}})),
        "hash mismatch",
    );
    assert!(
        !out.stderr.contains("secret-value"),
        "contents leaked:\n{out}"
    );
    assert!(!case.path("/etc/app.conf").exists());
    assert_no_temporaries(&case);
}

#[test]
fn a_corrupt_gzip_fails_and_writes_nothing() {
    root_only!("a_corrupt_gzip_fails_and_writes_nothing");
    let mut case = Case::new();
    let mut bad = gzip(b"some longer content that compresses");
    let n = bad.len();
    bad.truncate(n / 2);
    case.fails(
        &config(json!({"storage": {"files": [{"path": "/etc/z",
            "contents": {"source": data(&bad), "compression": "gzip"}}]}})),
        "decompressing",
    );
    assert!(!case.path("/etc/z").exists());
    assert_no_temporaries(&case);
}

fn assert_no_temporaries(case: &Case) {
    let left: Vec<String> = common::tree(&case.root)
        .into_keys()
        .filter(|p| p.contains(".kindling."))
        .collect();
    assert!(left.is_empty(), "temporary files left: {left:?}");
}

#[test]
fn an_unknown_owner_name_fails() {
    root_only!("an_unknown_owner_name_fails");
    let mut case = Case::new();
    case.fails(
        &config(json!({"storage": {"files": [{"path": "/etc/owned",
            "user": {"name": "nosuchuser"}, "contents": {"source": "data:,x"}}]}})),
        "no user named \"nosuchuser\" in the target's /etc/passwd",
    );
    assert!(!case.path("/etc/owned").exists());
    case.fails(
        &config(json!({"storage": {"directories": [{"path": "/srv/d", "group": {"name": "nosuchgroup"}}]}})),
        "no group named \"nosuchgroup\"",
    );
}

#[test]
fn overwrite_false_over_an_existing_file_fails_and_keeps_it() {
    root_only!("overwrite_false_over_an_existing_file_fails_and_keeps_it");
    let mut case = Case::new();
    fs::write(case.path("/etc/hostname"), "old\n").expect("hostname");
    case.fails(
        &config(json!({"storage": {"files": [{"path": "/etc/hostname", "contents": {"source": "data:,new"}}]}})),
        "a file already exists there, and overwrite is false",
    );
    assert_eq!(case.read("/etc/hostname"), "old\n");
}

#[test]
fn a_directory_where_a_file_must_go_fails() {
    root_only!("a_directory_where_a_file_must_go_fails");
    let mut case = Case::new();
    fs::create_dir_all(case.path("/etc/app.conf/inner")).expect("dir");
    case.fails(
        &config(json!({"storage": {"files": [{"path": "/etc/app.conf", "contents": {"source": "data:,x"}}]}})),
        "a directory already exists where the config wants a file",
    );
    assert!(case.path("/etc/app.conf/inner").is_dir());
    fs::write(case.path("/srv"), "file").expect("file");
    case.fails(
        &config(
            json!({"storage": {"files": [{"path": "/srv/x", "contents": {"source": "data:,x"}}]}}),
        ),
        "/srv is not a directory",
    );
}

/// Ignition 2.26 resolves a link to the root directory inside the root (its blackbox test
/// directories.ordering): with /foo/bar -> /, the directory /foo/bar/baz is /baz, created
/// before /baz/quux since it resolves shallower.
#[test]
fn a_link_to_the_root_resolves_inside_the_root() {
    root_only!("a_link_to_the_root_resolves_inside_the_root");
    let mut case = Case::new();
    fs::create_dir_all(case.path("/foo")).expect("foo");
    symlink("/", case.path("/foo/bar")).expect("foo/bar -> /");
    case.ok(&config(json!({"storage": {"directories": [
        {"path": "/foo/bar/baz", "mode": 0o777, "overwrite": false},
        {"path": "/baz/quux", "mode": 0o755, "overwrite": false}
    ]}})));
    assert_eq!(case.node("/baz").mode, 0o777);
    assert_eq!(case.node("/baz/quux").mode, 0o755);
    assert_eq!(
        case.node("/foo/bar").data,
        b"/",
        "the link is left as it was"
    );

    // etc -> / : /etc/hosts is the root's /hosts.
    let mut case = Case::new();
    fs::rename(case.path("/etc"), case.path("/etc.real")).expect("move etc");
    symlink("/", case.path("/etc")).expect("etc -> /");
    case.ok(&config(
        json!({"storage": {"files": [{"path": "/etc/hosts", "contents": {"source": "data:,x"}}]}}),
    ));
    assert_eq!(case.read("/hosts"), "x");
}

/// Two entries that land on one node once links are followed are refused, as Ignition
/// refuses them (its blackbox test links.sym.resovledconflicts), before anything is written.
#[test]
fn entries_that_resolve_to_one_node_are_refused() {
    root_only!("entries_that_resolve_to_one_node_are_refused");
    let mut case = Case::new();
    symlink("/", case.path("/foo")).expect("foo -> /");
    case.fails(
        &config(json!({"storage": {"files": [
            {"path": "/foo/bar/baz", "contents": {"source": "data:,one"}},
            {"path": "/bar/baz", "contents": {"source": "data:,two"}}
        ]}})),
        "/bar/baz: the file resolves to /bar/baz once links in the root are followed, where the entry /foo/bar/baz also resolves",
    );
    assert!(!case.path("/bar").exists(), "nothing written");
}

#[test]
fn a_link_climbing_out_of_the_root_is_refused() {
    root_only!("a_link_climbing_out_of_the_root_is_refused");
    let mut case = Case::new();
    fs::create_dir_all(case.path("/srv")).expect("srv");
    symlink("../../../../../../../..", case.path("/srv/up")).expect("up");
    case.fails(
        &config(json!({"storage": {"files": [{"path": "/srv/up/x", "contents": {"source": "data:,x"}}]}})),
        "the link /srv/up -> ../../../../../../../.. climbs above the root",
    );
    // Planted in the middle of a path, and pointing at the sentinel beside the root.
    let mut case = Case::new();
    fs::create_dir_all(case.path("/usr/local")).expect("usr");
    symlink("../../../outside", case.path("/usr/local/share")).expect("planted");
    case.fails(
        &config(json!({"storage": {"directories": [{"path": "/usr/local/share/d/e", "mode": 0o777}],
                                   "files": [{"path": "/usr/local/share/sub/f", "contents": {"source": "data:,x"}}]}})),
        "climbs above the root",
    );
}

#[test]
fn an_absolute_link_planted_mid_path_stays_inside_the_root() {
    root_only!("an_absolute_link_planted_mid_path_stays_inside_the_root");
    let mut case = Case::new();
    fs::create_dir_all(case.path("/opt")).expect("opt");
    // On the host this names the sentinel directory; inside the root it names nothing yet.
    symlink(&case.outside, case.path("/opt/planted")).expect("planted");
    case.ok(&config(json!({"storage": {
        "files": [{"path": "/opt/planted/keep.txt", "overwrite": true, "contents": {"source": "data:,inside"}}],
        "directories": [{"path": "/opt/planted/sub", "mode": 0o700, "user": {"id": 99}}]
    }})));
    let inside = case.path(&case.outside.to_string_lossy());
    assert_eq!(
        fs::read_to_string(inside.join("keep.txt")).expect("inside"),
        "inside"
    );
    assert_eq!(fs::metadata(inside.join("sub")).expect("sub").uid(), 99);
}

#[test]
fn links_to_outside_are_replaced_or_refused_never_followed() {
    root_only!("links_to_outside_are_replaced_or_refused_never_followed");
    let mut case = Case::new();
    let sentinel = case.outside.join("keep.txt");
    symlink(&sentinel, case.path("/etc/victim")).expect("victim");
    symlink(&sentinel, case.path("/etc/victim2")).expect("victim2");
    symlink(&case.outside, case.path("/etc/victimdir")).expect("victimdir");
    // No overwrite: a link in the way is an error, and nothing is chmod-ed through it.
    case.fails(
        &config(json!({"storage": {"files": [{"path": "/etc/victim", "mode": 0o777, "user": {"id": 1}}]}})),
        "a symbolic link already exists where the config wants a file",
    );
    case.fails(
        &config(json!({"storage": {"directories": [{"path": "/etc/victimdir", "mode": 0o777}]}})),
        "a symbolic link already exists where the config wants a directory",
    );
    // Overwrite replaces the link itself.
    case.ok(&config(
        json!({"storage": {"files": [{"path": "/etc/victim2", "overwrite": true,
        "contents": {"source": "data:,mine"}}]}}),
    ));
    assert_eq!(case.node("/etc/victim2").kind, "file");
    // A hard link may not reach out either.
    fs::create_dir_all(case.path("/srv")).expect("srv");
    symlink("../../../../..", case.path("/srv/up")).expect("up");
    case.fails(
        &config(json!({"storage": {"links": [{"path": "/h", "hard": true, "target": "/srv/up/etc/shadow"}]}})),
        "climbs above the root",
    );
}

#[test]
fn ssh_keys_are_written_as_the_user() {
    root_only!("ssh_keys_are_written_as_the_user");
    let mut case = Case::new();
    // A home directory the user cannot write: Kindling, acting as the user, cannot either.
    case.fails(
        &config(json!({"passwd": {"users": [{"name": "svc", "noCreateHome": true, "homeDir": "/var/lib/svc",
            "sshAuthorizedKeys": ["ssh-ed25519 KEY svc"]}]}})),
        "writing the SSH keys of svc failed",
    );
    assert!(!case.path("/var/lib/svc").exists());
    // A link planted in a home that climbs out is refused.
    let mut case = Case::new();
    fs::create_dir_all(case.path("/home/core")).expect("home");
    symlink("../../../../../outside", case.path("/home/core/.ssh")).expect(".ssh");
    case.fails(
        &config(
            json!({"passwd": {"users": [{"name": "core", "noCreateHome": true,
            "sshAuthorizedKeys": ["ssh-ed25519 KEY core"]}]}}),
        ),
        "climbs above the root",
    );
}

#[test]
fn secrets_stay_out_of_logs_and_errors() {
    root_only!("secrets_stay_out_of_logs_and_errors");
    let mut case = Case::new();
    let ok = case.ok(&config(json!({
        "passwd": {
            "groups": [{"name": "g", "passwordHash": "$6$gsalt$GROUPSECRETHASH"}],
            "users": [{"name": "core", "passwordHash": "$6$usalt$USERSECRETHASH",
                       "sshAuthorizedKeys": ["ssh-ed25519 KEYMATERIALSECRET core"]}]},
        "storage": {"files": [{"path": "/etc/token", "mode": 0o600,
                               "contents": {"source": "data:,FILECONTENTSECRET"}}]}
    })));
    for secret in [
        "GROUPSECRETHASH",
        "USERSECRETHASH",
        "KEYMATERIALSECRET",
        "FILECONTENTSECRET",
    ] {
        assert!(!ok.stderr.contains(secret), "{secret} leaked:\n{ok}");
        assert!(!ok.stdout.contains(secret), "{secret} leaked:\n{ok}");
    }
    // A failing command that got a hash: the hash is not in the error. (g exists now, so
    // this is groupmod, refused because gid 0 belongs to root.)
    let failed = case.fails(
        &config(
            json!({"passwd": {"groups": [{"name": "g", "gid": 0, "passwordHash": "$6$x$AGAINSECRETHASH"}]}}),
        ),
        "already exists",
    );
    assert!(!failed.stderr.contains("AGAINSECRETHASH"), "{failed}");
    assert!(failed.stderr.contains("<redacted>"), "{failed}");
}

#[test]
fn kept_files_keep_their_inode() {
    root_only!("kept_files_keep_their_inode");
    let mut case = Case::new();
    fs::write(case.path("/etc/mode-only"), "same").expect("mode-only");
    fs::write(case.path("/etc/appended"), "one").expect("appended");
    let inode = |case: &Case, p: &str| fs::metadata(case.path(p)).expect("meta").ino();
    let before = inode(&case, "/etc/mode-only");
    case.ok(&config(json!({"storage": {"files": [
        {"path": "/etc/mode-only", "mode": 0o600, "user": {"id": 9}},
        {"path": "/etc/appended", "append": [{"source": "data:,+two"}], "mode": 0o640}
    ]}})));
    assert_eq!(
        inode(&case, "/etc/mode-only"),
        before,
        "only mode and owner change"
    );
    let kept = case.node("/etc/mode-only");
    assert_eq!(
        (kept.data.as_slice(), kept.mode, kept.uid),
        (&b"same"[..], 0o600, 9)
    );
    let appended = case.node("/etc/appended");
    assert_eq!(
        (appended.data.as_slice(), appended.mode),
        (&b"one+two"[..], 0o640)
    );
}

// Issue 15, item 14: a hard link planted in the root shares its inode with a file outside
// it; changing that inode in place would change the outside file.
#[test]
fn files_with_other_hard_links_are_never_changed_in_place() {
    root_only!("files_with_other_hard_links_are_never_changed_in_place");
    let mut case = Case::new();
    let elsewhere = case.dir.join("elsewhere.txt");
    fs::write(&elsewhere, "outside\n").expect("elsewhere");
    fs::set_permissions(&elsewhere, fs::Permissions::from_mode(0o644)).expect("chmod");
    fs::hard_link(&elsewhere, case.path("/etc/linked")).expect("hard link");
    let outside = |case: &Case| {
        let m = fs::metadata(case.dir.join("elsewhere.txt")).expect("meta");
        let data = fs::read_to_string(case.dir.join("elsewhere.txt")).expect("read");
        (data, m.mode() & 0o7777, m.uid(), m.gid())
    };
    let before = outside(&case);
    for (change, what) in [
        (json!({"append": [{"source": "data:,+more"}]}), "append to"),
        (json!({"mode": 0o666}), "change the mode of"),
        (json!({"user": {"id": 1234}}), "change the owner of"),
        (json!({"group": {"name": "users"}}), "change the owner of"),
    ] {
        let mut entry = json!({"path": "/etc/linked"});
        for (k, v) in change.as_object().expect("object") {
            entry[k] = v.clone();
        }
        let out = case.fails(
            &config(json!({"storage": {"files": [entry]}})),
            "/etc/linked: it has 2 hard links",
        );
        assert!(out.stderr.contains(what), "{what}:\n{out}");
        assert_eq!(outside(&case), before, "the file outside the root changed");
    }
    // Asking for what is already there changes nothing and is fine.
    case.ok(&config(json!({"storage": {"files": [
        {"path": "/etc/linked", "mode": 0o644, "user": {"id": 0}}
    ]}})));
    assert_eq!(outside(&case), before);
    // Replacing the file renames a new one over this name; the other name keeps its file.
    case.ok(&config(json!({"storage": {"files": [
        {"path": "/etc/linked", "overwrite": true, "contents": {"source": "data:,new"}}
    ]}})));
    assert_eq!(case.read("/etc/linked"), "new");
    assert_eq!(outside(&case), before);
}

/// A server on 127.0.0.1 with `/content` (the bytes given) and nothing else (404).
fn content_server(content: &'static [u8]) -> support::Server {
    support::Server::start("127.0.0.1", move |req, _| {
        if req.path == "/content" {
            support::ok(content)
        } else {
            support::status(404, "Not Found")
        }
    })
}

// Issue 15, item 3: overwrite used to remove the old node before fetching the new content.
#[test]
fn a_failed_overwrite_keeps_the_old_file_or_directory() {
    root_only!("a_failed_overwrite_keeps_the_old_file_or_directory");
    let server = content_server(b"new-content");
    let mut case = Case::new();
    fs::write(case.path("/etc/hostname"), "old\n").expect("hostname");
    fs::create_dir_all(case.path("/etc/ssh/sshd_config.d")).expect("ssh");
    fs::write(case.path("/etc/ssh/sshd_config"), "Port 22\n").expect("sshd_config");
    fs::write(case.path("/etc/ssh/sshd_config.d/10.conf"), "X 1\n").expect("drop-in");
    let ssh_before: BTreeMap<String, TreeNode> = common::tree(&case.path("/etc/ssh"));
    let file = |path: &str, source: &str, hash: Option<String>| {
        let mut contents = json!({"source": source});
        if let Some(h) = hash {
            contents["verification"] = json!({"hash": h});
        }
        config(json!({"storage": {"files": [
            {"path": path, "overwrite": true, "contents": contents}]}}))
    };
    let missing = server.url("/missing");
    let mismatched = server.url("/content");
    for path in ["/etc/hostname", "/etc/ssh"] {
        case.fails_online(&file(path, &missing, None), "not found");
        case.fails_online(
            &file(path, &mismatched, Some(sha512(b"other"))),
            "hash mismatch",
        );
        case.fails(
            &file(path, "data:,new", Some(sha512(b"other"))),
            "hash mismatch",
        );
        assert_eq!(case.read("/etc/hostname"), "old\n", "after {path}");
        assert_eq!(
            common::tree(&case.path("/etc/ssh")),
            ssh_before,
            "/etc/ssh changed after a failed overwrite of {path}"
        );
        assert_no_temporaries(&case);
    }
    // With the content intact, both are replaced, the directory with everything in it.
    for path in ["/etc/hostname", "/etc/ssh"] {
        let out = case.run_online(&file(path, &mismatched, Some(sha512(b"new-content"))));
        assert!(out.succeeded(), "{out}");
        let node = case.node(path);
        assert_eq!(
            (node.kind, node.data.as_slice()),
            ("file", &b"new-content"[..])
        );
    }
    assert_no_temporaries(&case);
    case.assert_outside_untouched();
}

#[test]
fn a_failed_append_keeps_the_file() {
    root_only!("a_failed_append_keeps_the_file");
    let server = content_server(b"+more");
    let mut case = Case::new();
    fs::write(case.path("/etc/profile"), "old\n").expect("profile");
    let inode = fs::metadata(case.path("/etc/profile")).expect("meta").ino();
    let append = |res: Value| {
        config(
            json!({"storage": {"files": [{"path": "/etc/profile", "append": [
            {"source": "data:,first"}, res]}]}}),
        )
    };
    case.fails_online(
        &append(json!({"source": server.url("/missing")})),
        "not found",
    );
    case.fails_online(
        &append(json!({"source": server.url("/content"),
                       "verification": {"hash": sha512(b"other")}})),
        "hash mismatch",
    );
    assert_eq!(case.read("/etc/profile"), "old\n");
    assert_eq!(
        fs::metadata(case.path("/etc/profile")).expect("meta").ino(),
        inode
    );
    assert_no_temporaries(&case);
}

/// A tmpfs mounted for as long as this lives.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(at: &std::path::Path, size: &str) -> Self {
        let status = std::process::Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0755"),
                "tmpfs",
            ])
            .arg(at)
            .status()
            .expect("running mount");
        assert!(status.success(), "mounting a tmpfs on {}", at.display());
        Self(at.to_path_buf())
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.0)
            .status();
    }
}

// Issue 15, disk faults: the root's filesystem fills up while a file is written.
#[test]
fn a_full_filesystem_fails_cleanly_and_a_rerun_completes() {
    root_only!("a_full_filesystem_fails_cleanly_and_a_rerun_completes");
    static BIG: [u8; 1 << 20] = [b'x'; 1 << 20];
    let server = content_server(&BIG);
    let mut case = Case::new();
    let _tmpfs = Tmpfs::mount(&case.root, "4m");
    common::make_files_root(&case.root);
    fs::write(case.path("/etc/hostname"), "old\n").expect("hostname");
    fs::create_dir_all(case.path("/var")).expect("var");
    fs::write(case.path("/var/filler"), vec![0u8; 3328 << 10]).expect("filler");
    let cfg = config(json!({"storage": {"files": [
        {"path": "/etc/hostname", "overwrite": true,
         "contents": {"source": server.url("/content"), "verification": {"hash": sha512(&BIG)}}},
        {"path": "/etc/fresh", "contents": {"source": server.url("/content")}}
    ]}}));
    let out = case.fails_online(&cfg, "/etc/hostname");
    assert!(
        out.stderr.to_lowercase().contains("no space"),
        "the error does not say no space:\n{out}"
    );
    assert_eq!(case.read("/etc/hostname"), "old\n");
    assert!(!case.path("/etc/fresh").exists());
    assert_no_temporaries(&case);
    // An append is staged the same way: the kept file stays as it was.
    let out = case.fails_online(
        &config(json!({"storage": {"files": [
            {"path": "/etc/hostname", "append": [{"source": server.url("/content")}]}]}})),
        "appending to /etc/hostname failed",
    );
    assert!(out.stderr.to_lowercase().contains("no space"), "{out}");
    assert_eq!(case.read("/etc/hostname"), "old\n");
    assert_no_temporaries(&case);

    fs::remove_file(case.path("/var/filler")).expect("freeing space");
    let out = case.run_online(&cfg);
    assert!(out.succeeded(), "the rerun failed:\n{out}");
    assert_eq!(case.node("/etc/hostname").data, BIG);
    assert_eq!(case.node("/etc/fresh").data, BIG);
    assert_no_temporaries(&case);
}

// Issue 15, item 6: a name that looks like an option used to reach useradd as one.
#[test]
fn user_and_group_names_that_look_like_options_are_refused() {
    root_only!("user_and_group_names_that_look_like_options_are_refused");
    let mut case = Case::new();
    let before = (case.read("/etc/passwd"), case.read("/etc/group"));
    case.fails(
        &config(json!({"passwd": {
            "groups": [{"name": "fine"}],
            "users": [{"name": "core"}, {"name": "--help"}]}})),
        "$.passwd.users.1.name: the user name \"--help\" starts with -",
    );
    case.fails(
        &config(json!({"passwd": {"groups": [{"name": "-g"}]}})),
        "$.passwd.groups.0.name: the group name \"-g\" starts with -",
    );
    case.fails(
        &config(json!({"passwd": {"users": [{"name": "-r", "shouldExist": false}]}})),
        "$.passwd.users.0.name",
    );
    assert_eq!(
        (case.read("/etc/passwd"), case.read("/etc/group")),
        before,
        "nothing may be created before the names are checked"
    );
}

// Issue 15, item 13: a plain `..` in a path was reported as a link that does not exist.
#[test]
fn a_dot_dot_climbing_above_the_root_is_named_as_such() {
    root_only!("a_dot_dot_climbing_above_the_root_is_named_as_such");
    let mut case = Case::new();
    let out = case.fails(
        &config(json!({"storage": {"links": [
            {"path": "/h", "hard": true, "target": "/etc/../../outside/keep.txt"}]}})),
        "the .. in /etc/../.. climbs above the root",
    );
    assert!(!out.stderr.contains("the link"), "{out}");
}

#[test]
fn a_root_without_account_files_is_refused_before_useradd_runs() {
    root_only!("a_root_without_account_files_is_refused_before_useradd_runs");
    let mut case = Case::new();
    fs::remove_file(case.path("/etc/passwd")).expect("remove passwd");
    let out = case.fails(
        &config(json!({"passwd": {"users": [{"name": "core"}]}})),
        "has no /etc/passwd, which shadow-utils needs",
    );
    assert!(!out.stderr.contains("cannot lock"), "{out}");
    assert!(out.stderr.contains("--root"), "{out}");
    // Without users or groups, no account file is needed.
    case.ok(&config(json!({"storage": {"files": [{"path": "/f"}]}})));
}
