//! The distribution side, with the host's real dracut, dpkg and lintian: the dracut module
//! refuses to build an initramfs that would boot without provisioning, and the Debian packages
//! are lintian-clean and install a module that builds one.
//!
//! The initramfs builds use `--no-kernel`: what is checked here is the module's own user
//! space, and that keeps each build to seconds (the QEMU suite builds full images).

use std::ffi::OsStr;
use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn describe(output: &Output) -> String {
    format!(
        "{}\n--- stdout\n{}\n--- stderr\n{}",
        output.status,
        text(&output.stdout),
        text(&output.stderr)
    )
}

/// A private dracut base directory (the host's dracut, its modules, and `module` as
/// 30kindling), so nothing is installed on the host. Like tools/build-initramfs.sh.
fn dracut_base(dir: &Path, module: &Path) -> PathBuf {
    let base = dir.join("dracut-base");
    fs::create_dir_all(base.join("modules.d")).expect("creating the dracut base");
    fs::create_dir_all(base.join("conf.d")).expect("creating conf.d");
    fs::write(base.join("dracut.conf"), "").expect("writing dracut.conf");
    let host = Path::new("/usr/lib/dracut");
    assert!(
        host.join("modules.d").is_dir(),
        "dracut is not installed: run tools/install-deps.sh (packages dracut-core dracut-network)"
    );
    for entry in fs::read_dir(host).expect("reading /usr/lib/dracut") {
        let entry = entry.expect("a /usr/lib/dracut entry");
        if entry.file_name() != "modules.d" {
            symlink(entry.path(), base.join(entry.file_name())).expect("linking a dracut file");
        }
    }
    for entry in fs::read_dir(host.join("modules.d")).expect("reading dracut's modules") {
        let entry = entry.expect("a dracut module");
        if entry.file_name() != "30kindling" {
            symlink(entry.path(), base.join("modules.d").join(entry.file_name()))
                .expect("linking a dracut module");
        }
    }
    symlink(module, base.join("modules.d/30kindling")).expect("linking 30kindling");
    base
}

/// `dracut -a kindling` into `out` with the engine `engine`; `env` adds variables.
fn dracut(base: &Path, out: &Path, engine: &Path, env: &[(&str, &OsStr)]) -> Output {
    let empty = base.join("empty");
    fs::create_dir_all(&empty).expect("creating an empty trust dir");
    let mut cmd = Command::new("dracut");
    cmd.env("dracutbasedir", base)
        .env("KINDLING_BIN", engine)
        .env("KINDLING_TRUST_DIR", &empty)
        .env("KINDLING_BASE_DIR", &empty)
        .args([
            "--force",
            "--no-kernel",
            "--no-hostonly",
            "--no-early-microcode",
        ])
        .arg("--conf")
        .arg(base.join("dracut.conf"))
        .arg("--confdir")
        .arg(base.join("conf.d"))
        .args([
            "--modules",
            "systemd-initrd",
            "--add",
            "kindling",
            "--compress",
            "cat",
        ])
        .arg(out);
    for (key, value) in env {
        cmd.env(key, value);
    }
    cmd.output()
        .expect("dracut runs (apt-get install dracut-core)")
}

fn engine() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_kindling"))
}

/// Regression (issue 16): without the engine, dracut logged an error and still wrote an image
/// that boots unprovisioned.
#[test]
fn a_build_without_the_engine_fails_and_writes_no_image() {
    let dir = tempfile::tempdir().expect("temp dir");
    let base = dracut_base(dir.path(), &repo().join("dracut-module/30kindling"));
    let out = dir.path().join("initrd.img");
    let missing = dir.path().join("no-such-kindling");
    let output = dracut(&base, &out, &missing, &[]);
    let stderr = text(&output.stderr);
    assert!(
        !output.status.success(),
        "dracut succeeded: {}",
        describe(&output)
    );
    assert!(
        stderr.contains(&format!(
            "kindling: missing the engine {}",
            missing.display()
        )) && stderr.contains("set KINDLING_BIN"),
        "no message naming the engine and the fix: {}",
        describe(&output)
    );
    assert!(
        stderr.contains("refusing to build an initramfs that would boot without provisioning"),
        "{}",
        describe(&output)
    );
    assert!(!out.exists(), "dracut wrote {} anyway", out.display());
}

/// `-x` alone holds for a directory: KINDLING_BIN naming one is no engine either.
#[test]
fn an_engine_path_that_is_a_directory_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let base = dracut_base(dir.path(), &repo().join("dracut-module/30kindling"));
    let out = dir.path().join("initrd.img");
    let output = dracut(&base, &out, dir.path(), &[]);
    assert!(
        !output.status.success(),
        "dracut succeeded: {}",
        describe(&output)
    );
    assert!(
        text(&output.stderr).contains(&format!(
            "kindling: missing the engine {}",
            dir.path().display()
        )),
        "{}",
        describe(&output)
    );
    assert!(!out.exists(), "dracut wrote {} anyway", out.display());
}

/// A tool a stage runs is as necessary as the engine: here the host "lacks" useradd (a PATH
/// of links to everything else).
#[test]
fn a_build_without_a_stage_tool_fails_and_names_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let base = dracut_base(dir.path(), &repo().join("dracut-module/30kindling"));
    let bin = dir.path().join("bin");
    fs::create_dir_all(&bin).expect("creating the PATH dir");
    for host_dir in ["/usr/sbin", "/usr/bin", "/sbin", "/bin"] {
        for entry in fs::read_dir(host_dir).expect("reading a PATH directory") {
            let entry = entry.expect("a PATH entry");
            let link = bin.join(entry.file_name());
            if entry.file_name() != "useradd" && !link.exists() {
                symlink(entry.path(), link).expect("linking a tool");
            }
        }
    }
    let out = dir.path().join("initrd.img");
    let output = dracut(
        &base,
        &out,
        &engine(),
        &[("PATH", bin.as_os_str()), ("DRACUT_PATH", bin.as_os_str())],
    );
    assert!(
        !output.status.success(),
        "dracut succeeded: {}",
        describe(&output)
    );
    assert!(
        text(&output.stderr).contains("kindling: missing useradd, which the files stage runs"),
        "no message naming useradd: {}",
        describe(&output)
    );
    assert!(!out.exists(), "dracut wrote {} anyway", out.display());
}

fn run(what: &str, cmd: &mut Command) -> Output {
    let output = cmd
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot start: {e}"));
    assert!(
        output.status.success(),
        "{what} failed: {}",
        describe(&output)
    );
    output
}

/// `make deb`'s script on this build: both packages lintian-clean, installed with dpkg into a
/// throwaway root, and the installed module builds an initramfs with the installed engine.
#[test]
fn the_debian_packages_are_clean_and_install_a_working_module() {
    let bin_dir = engine()
        .parent()
        .expect("the engine's directory")
        .to_owned();
    for bin in ["flint", "kindling-docgen"] {
        assert!(
            bin_dir.join(bin).is_file(),
            "{} is missing: cargo build --workspace --bins first",
            bin_dir.join(bin).display()
        );
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let debs = dir.path().join("debs");
    run(
        "tools/build-deb.sh",
        Command::new("bash")
            .arg(repo().join("tools/build-deb.sh"))
            .arg("--bin-dir")
            .arg(&bin_dir)
            .arg("--out")
            .arg(&debs)
            .env("DEB_COMPRESS", "gzip")
            .current_dir(repo()),
    );
    let version = env!("CARGO_PKG_VERSION");
    let arch = text(
        &run(
            "dpkg --print-architecture",
            Command::new("dpkg").arg("--print-architecture"),
        )
        .stdout,
    );
    let deb = |pkg: &str| debs.join(format!("{pkg}_{version}_{}.deb", arch.trim()));

    // Lintian: no error or warning (the few overrides carry their reasons).
    let lintian = Command::new("lintian")
        .args(["--fail-on", "error,warning"])
        .arg(deb("kindling"))
        .arg(deb("flint"))
        .output()
        .expect("lintian runs (apt-get install lintian)");
    let findings = text(&lintian.stdout);
    assert!(
        lintian.status.success()
            && !findings
                .lines()
                .any(|l| l.starts_with("E:") || l.starts_with("W:")),
        "lintian: {}",
        describe(&lintian)
    );

    // Depends: the real libraries (dpkg-shlibdeps) and the stages' tools, every one a package
    // this host has.
    let control = text(
        &run(
            "dpkg-deb -f",
            Command::new("dpkg-deb")
                .arg("-f")
                .arg(deb("kindling"))
                .arg("Depends"),
        )
        .stdout,
    );
    for needed in [
        "libc6",
        "libssl3",
        "libblkid1",
        "dracut-core",
        "passwd",
        "gdisk",
        "udev",
    ] {
        assert!(
            control.contains(needed),
            "kindling's Depends lacks {needed}: {control}"
        );
    }
    for dep in control.split(',') {
        let name = dep.split_whitespace().next().expect("a package name");
        let status = text(
            &Command::new("dpkg-query")
                .args(["-W", "-f=${Status}", name])
                .output()
                .expect("dpkg-query runs")
                .stdout,
        );
        assert!(
            status.contains("install ok installed"),
            "Depends names {name}, which this host does not have"
        );
    }

    // Install both into a throwaway root with its own dpkg database.
    let root = dir.path().join("root");
    for sub in [
        "var/lib/dpkg/info",
        "var/lib/dpkg/updates",
        "var/lib/dpkg/triggers",
    ] {
        fs::create_dir_all(root.join(sub)).expect("creating the dpkg database");
    }
    fs::write(root.join("var/lib/dpkg/status"), "").expect("writing the dpkg status");
    run(
        "dpkg --root -i",
        Command::new("dpkg")
            .arg(format!("--root={}", root.display()))
            .args(["--log=/dev/null", "--force-depends", "-i"])
            .arg(deb("kindling"))
            .arg(deb("flint")),
    );
    for path in [
        "usr/bin/kindling",
        "usr/bin/flint",
        "usr/share/man/man1/kindling.1.gz",
        "usr/share/man/man1/kindling-files.1.gz",
        "usr/share/man/man1/flint-sign.1.gz",
        "usr/share/bash-completion/completions/kindling",
        "usr/share/zsh/vendor-completions/_flint",
        "usr/share/fish/vendor_completions.d/kindling.fish",
        "lib/systemd/system/kindling-firstboot-complete.service",
    ] {
        assert!(
            root.join(path).exists(),
            "the packages did not install {path}"
        );
    }

    // The installed module, with the installed engine, builds an initramfs carrying both.
    let base = dracut_base(
        dir.path(),
        &root.join("usr/lib/dracut/modules.d/30kindling"),
    );
    let image = dir.path().join("initrd.img");
    let output = dracut(&base, &image, &root.join("usr/bin/kindling"), &[]);
    assert!(
        output.status.success(),
        "dracut with the installed module: {}",
        describe(&output)
    );
    let listing = text(
        &run(
            "cpio -t",
            Command::new("sh")
                .arg("-c")
                .arg("cpio -it --quiet < \"$0\"")
                .arg(&image),
        )
        .stdout,
    );
    for path in [
        "usr/bin/kindling",
        "usr/lib/systemd/system-generators/kindling-generator",
        "usr/lib/systemd/system/kindling-files.service",
        "usr/sbin/useradd",
    ] {
        assert!(
            listing.lines().any(|l| l == path),
            "the initramfs lacks {path}"
        );
    }
}

#[test]
fn build_deb_without_the_binaries_says_how_to_build_them() {
    let dir = tempfile::tempdir().expect("temp dir");
    let output = Command::new("bash")
        .arg(repo().join("tools/build-deb.sh"))
        .arg("--bin-dir")
        .arg(dir.path())
        .arg("--out")
        .arg(dir.path().join("debs"))
        .current_dir(repo())
        .output()
        .expect("bash runs");
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    assert!(
        text(&output.stderr).contains(&format!(
            "build-deb: {}/kindling is missing: cargo build --release --workspace --bins first",
            dir.path().display()
        )),
        "{}",
        describe(&output)
    );
    assert!(
        !dir.path().join("debs").exists(),
        "build-deb made its output directory anyway"
    );
}
