//! Kindling's files stage must leave the same tree as Ignition's.
//!
//! Each config in `tests/fixtures/files/diff/` (spec 3.3.0, which Debian's Ignition 2.14
//! runs) is applied by Ignition (`/usr/lib/dracut/modules.d/30ignition/ignition`,
//! `-stage fetch-offline` then `-stage files`) and by Kindling (`fetch-offline` then
//! `files`) to twin roots prepared the same way, and the trees are compared node by node:
//! type, permission bits (with setuid, setgid and sticky), owner, link count, contents and
//! link targets. That covers `/etc/passwd`, `/etc/group`, `/etc/shadow`, `/etc/gshadow`
//! and their `-` backups, unit files, masks and enablement links.
//!
//! Kindling follows Ignition 2.26.0, so where 2.26 differs from 2.14 the trees differ too.
//! Every such difference, and every other one that is intended (each tool's own result
//! report, preset file and SSH key fragment name), is an entry of the one allow-list
//! `tests/differential/allowed.txt`, with the 2.26 behaviour or Kindling rule it follows. A
//! difference no entry allows fails the test, and so does an entry that allowed nothing.
//!
//! Without the Ignition binary the test fails when CI is set and skips otherwise.

use crate::allowed;
use crate::common;

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};

use allowed::AllowList;
use common::{Failures, Outcome, TreeNode};

const IGNITION: &str = "/usr/lib/dracut/modules.d/30ignition/ignition";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tool {
    Ignition,
    Kindling,
}

impl Tool {
    fn preset(self) -> &'static str {
        match self {
            Tool::Ignition => "etc/systemd/system-preset/20-ignition.preset",
            Tool::Kindling => "etc/systemd/system-preset/20-kindling.preset",
        }
    }
}

/// Prepares a root before a config is applied to it (the same way for both tools, except
/// for the name of each tool's own preset file).
type Setup = fn(&Path, Tool);

fn no_setup(_: &Path, _: Tool) {}

fn setups() -> BTreeMap<&'static str, Setup> {
    let mut m: BTreeMap<&'static str, Setup> = BTreeMap::new();
    m.insert("02-file-append", |r, _| {
        file(r, "etc/existing.conf", "a=0\n", 0o640, Some((7, 8)));
        file(r, "etc/existing-mode.conf", "x", 0o644, None);
    });
    m.insert("03-file-overwrite", |r, _| {
        file(r, "etc/replaced", "old\n", 0o600, Some((7, 8)));
        file(r, "etc/kept", "keep me\n", 0o644, None);
        fs::create_dir_all(r.join("etc/was-a-dir/inner")).expect("dir");
        file(r, "etc/was-a-dir/inner/f", "f", 0o644, None);
        symlink("/nowhere/file", r.join("etc/was-a-link")).expect("link");
    });
    m.insert("05-directories", |r, _| {
        dir(r, "srv/existing", 0o700, Some((3, 4)));
        dir(r, "srv/existing-nomode", 0o750, Some((5, 6)));
        file(r, "srv/replaced-file", "f", 0o644, None);
    });
    m.insert("06-links-symbolic", |r, _| {
        file(r, "etc/hostname", "h\n", 0o644, None);
        symlink("/etc/hostname", r.join("etc/same")).expect("link");
        symlink("/old", r.join("etc/replace-link")).expect("link");
    });
    m.insert("07-links-hard", |r, _| {
        file(r, "etc/existing.txt", "e", 0o644, None);
        fs::create_dir_all(r.join("x")).expect("x");
        fs::hard_link(r.join("etc/existing.txt"), r.join("x/already")).expect("hard link");
    });
    m.insert("08-groups", |r, _| {
        append(r, "etc/group", "oldgroup:x:1600:\n");
        append(r, "etc/gshadow", "oldgroup:!::\n");
    });
    m.insert("10-users-modify", |r, _| {
        append(r, "etc/passwd", "dave:x:1100:100::/home/dave:/bin/sh\n");
        append(r, "etc/shadow", "dave:!:19000:0:99999:7:::\n");
        dir(r, "home/dave", 0o755, Some((1100, 100)));
        file(r, "home/dave/notes", "n", 0o644, Some((1100, 100)));
    });
    m.insert("11-users-delete", |r, _| {
        append(
            r,
            "etc/passwd",
            "olduser:x:1700:100::/home/olduser:/bin/sh\n",
        );
        append(r, "etc/shadow", "olduser:!:19000:0:99999:7:::\n");
        append(r, "etc/group", "oldgroup2:x:1800:\n");
        append(r, "etc/gshadow", "oldgroup2:!::\n");
        dir(r, "home/olduser", 0o700, Some((1700, 100)));
        file(r, "home/olduser/.profile", "p", 0o644, Some((1700, 100)));
    });
    m.insert("12-ssh-keys", |r, _| {
        append(
            r,
            "etc/passwd",
            "existing:x:1200:100::/home/existing:/bin/sh\n",
        );
        append(r, "etc/shadow", "existing:!:19000:0:99999:7:::\n");
        dir(r, "home/existing", 0o700, Some((1200, 100)));
    });
    m.insert("13-units-contents", |r, _| {
        file(
            r,
            "etc/systemd/system/existing.service",
            "[Service]\nExecStart=/bin/old\n",
            0o600,
            Some((7, 8)),
        );
    });
    m.insert("14-units-enable", |r, tool| {
        let lib = "usr/lib/systemd/system";
        file(r, &format!("{lib}/old.service"), "[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n", 0o644, None);
        file(r, &format!("{lib}/aliased.service"), "[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=sockets.target\nAlias=aliased-alt.service\n", 0o644, None);
        file(r, &format!("{lib}/sshd.service"), "[Service]\nExecStart=/usr/sbin/sshd\n[Install]\nWantedBy=multi-user.target\n", 0o644, None);
        let sys = r.join("etc/systemd/system");
        fs::create_dir_all(sys.join("multi-user.target.wants")).expect("wants");
        fs::create_dir_all(sys.join("sockets.target.wants")).expect("wants");
        symlink("/usr/lib/systemd/system/old.service", sys.join("multi-user.target.wants/old.service")).expect("l");
        symlink("/usr/lib/systemd/system/sshd.service", sys.join("multi-user.target.wants/sshd.service")).expect("l");
        symlink("/usr/lib/systemd/system/aliased.service", sys.join("sockets.target.wants/aliased.service")).expect("l");
        symlink("/usr/lib/systemd/system/aliased.service", sys.join("aliased-alt.service")).expect("l");
        file(r, tool.preset(), "enable earlier.service\n", 0o644, None);
    });
    m.insert("15-units-mask", |r, _| {
        file(
            r,
            "etc/systemd/system/replaced.service",
            "[Service]\n",
            0o644,
            None,
        );
        symlink("/dev/null", r.join("etc/systemd/system/unmasked.service")).expect("l");
        file(
            r,
            "etc/systemd/system/not-masked.service",
            "[Service]\n",
            0o644,
            None,
        );
    });
    m.insert("16-paths-through-links", |r, _| {
        fs::create_dir_all(r.join("var/home/core")).expect("home");
        symlink("/run", r.join("var/run")).expect("l");
        symlink("usr/opt", r.join("opt")).expect("l");
        symlink("var/home", r.join("home")).expect("l");
    });
    m.insert("17-realistic", |r, _| {
        file(r, "etc/hostname", "localhost\n", 0o644, None);
        symlink("../run/resolvconf/resolv.conf", r.join("etc/resolv.conf")).expect("l");
        dir(r, "etc/ssh", 0o755, None);
    });
    m
}

fn file(root: &Path, rel: &str, text: &str, mode: u32, owner: Option<(u32, u32)>) {
    let p = root.join(rel);
    fs::create_dir_all(p.parent().expect("parent")).expect("parents");
    fs::write(&p, text).expect("write");
    fs::set_permissions(&p, fs::Permissions::from_mode(mode)).expect("chmod");
    if let Some((u, g)) = owner {
        std::os::unix::fs::chown(&p, Some(u), Some(g)).expect("chown");
    }
}

fn dir(root: &Path, rel: &str, mode: u32, owner: Option<(u32, u32)>) {
    let p = root.join(rel);
    fs::create_dir_all(&p).expect("mkdir");
    fs::set_permissions(&p, fs::Permissions::from_mode(mode)).expect("chmod");
    if let Some((u, g)) = owner {
        std::os::unix::fs::chown(&p, Some(u), Some(g)).expect("chown");
    }
}

fn append(root: &Path, rel: &str, text: &str) {
    use std::io::Write;
    let mut f = fs::OpenOptions::new()
        .append(true)
        .open(root.join(rel))
        .expect("open for append");
    f.write_all(text.as_bytes()).expect("append");
}

fn run_ignition(config: &Path, root: &Path, work: &Path) -> Outcome {
    let bin = work.join("bin");
    fs::create_dir_all(&bin).expect("bin");
    let setfiles = bin.join("setfiles");
    fs::write(&setfiles, "#!/bin/sh\nexit 0\n").expect("setfiles");
    fs::set_permissions(&setfiles, fs::Permissions::from_mode(0o755)).expect("chmod");
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_else(|_| "/usr/sbin:/usr/bin:/sbin:/bin".into())
    );
    let config_env = config.to_str().expect("utf-8");
    let mut last = None;
    for stage in ["fetch-offline", "files"] {
        let cache = work.join("cache.json");
        let state = work.join("state");
        let neednet = work.join("neednet");
        // The initramfs runs Ignition with umask 022; its mkdir modes depend on it.
        let args: Vec<&OsStr> = vec![
            "-c".as_ref(),
            "umask 022; exec \"$0\" \"$@\"".as_ref(),
            IGNITION.as_ref(),
            "-platform".as_ref(),
            "file".as_ref(),
            "-root".as_ref(),
            root.as_os_str(),
            "-config-cache".as_ref(),
            cache.as_os_str(),
            "-state-file".as_ref(),
            state.as_os_str(),
            "-neednet".as_ref(),
            neednet.as_os_str(),
            "-log-to-stdout".as_ref(),
            "-stage".as_ref(),
            stage.as_ref(),
        ];
        let out = common::run_with_env(
            Path::new("/bin/sh"),
            &args,
            &[("PATH", &path), ("IGNITION_CONFIG_FILE", config_env)],
        );
        if !out.succeeded() {
            return out;
        }
        last = Some(out);
    }
    last.expect("ran")
}

fn compare(
    allowed: &AllowList,
    config: &str,
    a: &BTreeMap<String, TreeNode>,
    b: &BTreeMap<String, TreeNode>,
) -> Vec<String> {
    let mut diffs = Vec::new();
    for (path, node) in a {
        match b.get(path) {
            None => diffs.push(format!("only Ignition has /{path}: {node}")),
            Some(other) if other != node && !allowed.allows(config, path, node, other) => diffs
                .push(format!(
                    "/{path} differs:\n        Ignition: {node}\n        Kindling: {other}"
                )),
            Some(_) => {}
        }
    }
    for (path, node) in b {
        if !a.contains_key(path) {
            diffs.push(format!("only Kindling has /{path}: {node}"));
        }
    }
    diffs
}

fn fixtures() -> Vec<PathBuf> {
    common::json_files(&common::manifest_dir().join("tests/fixtures/files/diff"))
}

#[test]
fn kindling_and_ignition_leave_the_same_tree() {
    let test = "kindling_and_ignition_leave_the_same_tree";
    if !Path::new(IGNITION).is_file() {
        if std::env::var_os("CI").is_some() {
            panic!("{IGNITION} is missing, and CI is set, so the differential test cannot be skipped: install it with `apt-get install ignition`");
        }
        common::skip(
            test,
            &format!("{IGNITION} is missing (apt-get install ignition)"),
        );
        return;
    }
    if !common::require_root(test) {
        return;
    }
    let configs = fixtures();
    assert!(
        configs.len() >= 15,
        "expected at least 15 configs, found {}",
        configs.len()
    );
    let setups = setups();
    let allowed = AllowList::load(
        &common::manifest_dir().join("tests/differential/allowed.txt"),
        "differential_files",
    );
    let mut failures = Failures::new();
    for config in &configs {
        let name = config
            .file_stem()
            .expect("stem")
            .to_string_lossy()
            .into_owned();
        let setup = setups.get(name.as_str()).copied().unwrap_or(no_setup);
        let tmp = tempfile::tempdir().expect("tempdir");
        fs::set_permissions(tmp.path(), fs::Permissions::from_mode(0o755)).expect("chmod");
        let mut trees = Vec::new();
        let mut outcomes = Vec::new();
        for tool in [Tool::Ignition, Tool::Kindling] {
            let base = tmp.path().join(format!("{tool:?}").to_lowercase());
            let root = base.join("root");
            let work = base.join("work");
            fs::create_dir_all(&root).expect("root");
            fs::create_dir_all(&work).expect("work");
            fs::set_permissions(&base, fs::Permissions::from_mode(0o755)).expect("chmod");
            common::make_files_root(&root);
            setup(&root, tool);
            let out = match tool {
                Tool::Ignition => run_ignition(config, &root, &work),
                Tool::Kindling => match common::kindling_files(config, &root, &work, "", &[]) {
                    (_, Some(files)) => files,
                    (fetch, None) => fetch,
                },
            };
            trees.push(allowed.normalise(common::tree(&root)));
            outcomes.push(out);
        }
        let (ign, kin) = (&outcomes[0], &outcomes[1]);
        if !ign.succeeded() || !kin.succeeded() {
            failures.push(format!(
                "{name}: both must succeed\n    Ignition:\n{ign}    Kindling:\n{kin}"
            ));
            continue;
        }
        let diffs = compare(&allowed, &name, &trees[0], &trees[1]);
        if !diffs.is_empty() {
            failures.push(format!(
                "{name}: {} difference(s)\n      {}\n    Kindling's log:\n{kin}",
                diffs.len(),
                diffs.join("\n      ")
            ));
        }
    }
    for entry in allowed.stale() {
        failures.push(format!(
            "{entry}: allows no difference in this corpus; remove it or fix the config that exercised it"
        ));
    }
    failures.finish(configs.len(), "configs applied by Ignition and Kindling");
}
