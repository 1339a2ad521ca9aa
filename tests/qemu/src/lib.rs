//! Harness for the QEMU boot tests (DESIGN.md §7, layer 4).
//!
//! Once per test run, [`setup`] fetches Debian's kernel, builds the test root (cached under
//! `target/qemu/`, rebuilt only when its recipe changes) and builds one initramfs with dracut
//! and `dracut-module/30kindling`. The shell scripts in `tools/` do that work, so the demo and
//! the benchmark build exactly the same images.
//!
//! Each scenario then boots a copy of the root under QEMU with TCG and a hard timeout
//! ([`vm::Vm`]), and checks the serial console ([`vm::Boot`]) and the disk image after the VM
//! powered off ([`disk`], through debugfs: no mounts).
//!
//! Without the tools (qemu-system-x86, dracut, mmdebstrap, …) or without root, the tests skip
//! with a message, unless `CI` is set: then they fail. `KINDLING_QEMU_TESTS=skip` skips them
//! on purpose.

pub mod disk;
pub mod http;
pub mod secureboot;
pub mod vm;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Instant;

/// Everything a scenario boots.
#[derive(Debug)]
pub struct Setup {
    /// The repository root.
    pub repo: PathBuf,
    /// `target/qemu`: kernel, root image, initramfs, and one directory per scenario run.
    pub work: PathBuf,
    pub kernel: PathBuf,
    /// What tools/fetch-kernel.sh unpacked (the modules dracut takes).
    pub kernel_dir: PathBuf,
    pub initrd: PathBuf,
    /// The engine binary in the initramfs.
    pub engine: PathBuf,
    /// The pristine root image; scenarios boot copies of it.
    pub root_image: PathBuf,
}

#[derive(Debug)]
enum State {
    Ready(Setup),
    Skip(String),
    Broken(String),
}

static STATE: OnceLock<State> = OnceLock::new();

/// Prints a line on the test process's stderr, past libtest's output capture, so skips and
/// boot times show in `cargo test` output (and in CI logs) even when the test passes.
pub fn note(message: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{message}");
}

/// The prepared kernel, root and initramfs; `None` when the tests skip (the reason is printed).
/// Panics when preparing failed, or when something is missing and `CI` is set.
pub fn setup() -> Option<&'static Setup> {
    match STATE.get_or_init(prepare) {
        State::Ready(setup) => Some(setup),
        State::Skip(why) => {
            static SAID: std::sync::Once = std::sync::Once::new();
            SAID.call_once(|| note(&format!("SKIPPED (qemu boot tests): {why}")));
            None
        }
        State::Broken(why) => panic!("preparing the QEMU boot tests failed:\n{why}"),
    }
}

/// Tools the harness and the tools/*.sh scripts run, with the Debian package that has them.
const TOOLS: &[(&str, &str)] = &[
    ("qemu-system-x86_64", "qemu-system-x86"),
    ("dracut", "dracut-core"),
    ("mmdebstrap", "mmdebstrap"),
    ("mke2fs", "e2fsprogs"),
    ("debugfs", "e2fsprogs"),
    ("zstd", "zstd"),
    ("cpio", "cpio"),
    ("depmod", "kmod"),
    ("apt-get", "apt"),
    ("dpkg-deb", "dpkg"),
    // What dracut's systemd, systemd-networkd and dbus modules and 30kindling copy in.
    ("udevadm", "udev"),
    ("dbus-daemon", "dbus"),
    ("ip", "iproute2"),
    ("useradd", "passwd"),
];

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

fn prepare() -> State {
    if std::env::var("KINDLING_QEMU_TESTS").is_ok_and(|v| v == "skip") {
        return State::Skip("KINDLING_QEMU_TESTS=skip".into());
    }
    let missing = missing_prerequisites();
    if !missing.is_empty() {
        let why = format!("missing {}", missing.join(", "));
        return if in_ci() {
            State::Broken(format!(
                "{why}; CI is set, so this is a failure, not a skip (.ci/run must install them)"
            ))
        } else {
            State::Skip(format!(
                "{why}; install them (docs/src/boot-integration.md) or set KINDLING_QEMU_TESTS=skip"
            ))
        };
    }
    match build() {
        Ok(setup) => State::Ready(setup),
        Err(why) => State::Broken(why),
    }
}

fn missing_prerequisites() -> Vec<String> {
    let mut missing = Vec::new();
    if !is_root() {
        missing.push("root (mmdebstrap and dracut run as root)".to_owned());
    }
    for (tool, package) in TOOLS {
        if find_tool(tool).is_none() {
            missing.push(format!("{tool} (package {package})"));
        }
    }
    if !Path::new("/usr/lib/dracut/modules.d/01systemd-networkd").is_dir() {
        missing.push("dracut's systemd-networkd module (package dracut-network)".to_owned());
    }
    if !Path::new("/usr/lib/systemd/systemd").exists()
        && !Path::new("/lib/systemd/systemd").exists()
    {
        missing.push("systemd (package systemd)".to_owned());
    }
    missing
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|status| {
        status
            .lines()
            .find_map(|l| l.strip_prefix("Uid:"))
            .and_then(|ids| ids.split_whitespace().nth(1))
            == Some("0")
    })
}

/// Looks a program up on `PATH`, plus the sbin directories a non-login root shell may lack.
pub fn find_tool(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin", "/usr/bin", "/bin"].map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap_or_else(|_| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")))
}

fn target_dir(repo: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| repo.join("target"), PathBuf::from)
}

fn build() -> Result<Setup, String> {
    let repo = repo_root();
    let work = target_dir(&repo).join("qemu");
    std::fs::create_dir_all(&work).map_err(|e| format!("creating {}: {e}", work.display()))?;

    let kernel_dir = work.join("kernel");
    step(
        "fetching Debian's kernel",
        &repo,
        "tools/fetch-kernel.sh",
        &[kernel_dir.as_os_str()],
    )?;
    step(
        "building the test root (cached)",
        &repo,
        "tools/build-root.sh",
        &[work.as_os_str()],
    )?;
    let engine = kindling_binary(&repo)?;
    let initrd = work.join("initrd-kindling.img");
    build_initramfs(&repo, &kernel_dir, &engine, &initrd, None, &[], &[])?;
    Ok(Setup {
        kernel: kernel_dir.join("vmlinuz"),
        kernel_dir,
        root_image: work.join("root.img"),
        initrd,
        engine,
        work,
        repo,
    })
}

/// Builds an initramfs with 30kindling into `out`; with `trust_dir`, its policy.json and
/// trust/ certificates go in (KINDLING_TRUST_DIR); `hidden` tools are built as on a host
/// without them (`--hide`).
fn build_initramfs(
    repo: &Path,
    kernel_dir: &Path,
    engine: &Path,
    out: &Path,
    trust_dir: Option<&Path>,
    includes: &[(PathBuf, String)],
    hidden: &[&str],
) -> Result<(), String> {
    let started = Instant::now();
    let mut command = Command::new("bash");
    command
        .arg(repo.join("tools/build-initramfs.sh"))
        .args(["--with", "kindling", "--kernel"])
        .arg(kernel_dir);
    for (src, dst) in includes {
        command.arg("--include").arg(src).arg(dst);
    }
    for tool in hidden {
        command.args(["--hide", tool]);
    }
    command
        .arg(out)
        .env("KINDLING_BIN", engine)
        .current_dir(repo);
    if let Some(dir) = trust_dir {
        command.env("KINDLING_TRUST_DIR", dir);
    }
    let status = command
        .output()
        .map_err(|e| format!("running tools/build-initramfs.sh: {e}"))?;
    check_output("building the initramfs", &status)?;
    note(&format!(
        "qemu tests: initramfs {} ({} bytes) built in {:.1} s",
        out.display(),
        std::fs::metadata(out).map(|m| m.len()).unwrap_or(0),
        started.elapsed().as_secs_f64()
    ));
    Ok(())
}

impl Setup {
    /// Another initramfs like [`Setup::initrd`], at `initrd-<name>.img` in the work directory.
    fn variant(
        &self,
        name: &str,
        trust_dir: Option<&Path>,
        includes: &[(PathBuf, String)],
        hidden: &[&str],
    ) -> PathBuf {
        let out = self.work.join(format!("initrd-{name}.img"));
        if let Err(e) = build_initramfs(
            &self.repo,
            &self.kernel_dir,
            &self.engine,
            &out,
            trust_dir,
            includes,
            hidden,
        ) {
            panic!("{e}");
        }
        out
    }

    /// An initramfs like [`Setup::initrd`], with a trust policy and certificates baked in.
    pub fn initrd_with_trust(&self, name: &str, trust_dir: &Path) -> PathBuf {
        self.variant(name, Some(trust_dir), &[], &[])
    }

    /// An initramfs like [`Setup::initrd`] with more files in it: `(source, path in the
    /// image)`, e.g. unit drop-ins that point the engine at a stand-in.
    pub fn initrd_with_files(&self, name: &str, files: &[(PathBuf, String)]) -> PathBuf {
        self.variant(name, None, files, &[])
    }

    /// An initramfs like [`Setup::initrd`], built as on a host without `tools`.
    pub fn initrd_without_tools(&self, name: &str, tools: &[&str]) -> PathBuf {
        self.variant(name, None, &[], tools)
    }

    /// An initramfs whose trust policy requires signed configs under a strict chain and trusts
    /// one certificate (`cert`, armored); the trust directory goes to `trust_dir`.
    pub fn initrd_requiring_signatures(
        &self,
        name: &str,
        trust_dir: &Path,
        cert: &[u8],
    ) -> PathBuf {
        std::fs::create_dir_all(trust_dir.join("trust")).expect("creating the trust directory");
        std::fs::write(
            trust_dir.join("policy.json"),
            r#"{"require":"signature","strictChain":true}"#,
        )
        .expect("writing the policy");
        std::fs::write(trust_dir.join("trust/test.asc"), cert).expect("writing the certificate");
        self.initrd_with_trust(name, trust_dir)
    }
}

fn step(what: &str, repo: &Path, script: &str, args: &[&std::ffi::OsStr]) -> Result<(), String> {
    let started = Instant::now();
    let output = Command::new("bash")
        .arg(repo.join(script))
        .args(args)
        .current_dir(repo)
        .output()
        .map_err(|e| format!("{what}: running {script}: {e}"))?;
    check_output(what, &output)?;
    note(&format!(
        "qemu tests: {what}: {:.1} s",
        started.elapsed().as_secs_f64()
    ));
    Ok(())
}

fn check_output(what: &str, output: &std::process::Output) -> Result<(), String> {
    if output.status.success() {
        return Ok(());
    }
    Err(format!(
        "{what} failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    ))
}

/// The engine that goes into the initramfs: `$KINDLING_BIN`, else this tree's `kindling`
/// built with cargo: the dev profile (already built by `cargo test --workspace`, so this costs
/// nothing there; dracut strips it), or the release profile when
/// `KINDLING_QEMU_PROFILE=release` (what ships; the demo and the benchmark use it).
fn kindling_binary(repo: &Path) -> Result<PathBuf, String> {
    if let Some(bin) = std::env::var_os("KINDLING_BIN") {
        return Ok(PathBuf::from(bin));
    }
    let release = std::env::var("KINDLING_QEMU_PROFILE").is_ok_and(|p| p == "release");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(&cargo);
    command.args(["build", "-p", "kindling", "--bin", "kindling"]);
    if release {
        command.arg("--release");
    }
    let started = Instant::now();
    let output = command
        .current_dir(repo)
        .output()
        .map_err(|e| format!("running cargo build: {e}"))?;
    check_output("building the engine", &output)?;
    let profile = if release { "release" } else { "debug" };
    note(&format!(
        "qemu tests: cargo build ({profile}) -p kindling: {:.1} s",
        started.elapsed().as_secs_f64()
    ));
    Ok(target_dir(repo).join(profile).join("kindling"))
}

/// A fresh directory for one scenario's disk, config and console log.
pub fn run_dir(setup: &Setup, name: &str) -> PathBuf {
    let dir = setup.work.join("runs").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("creating the scenario directory");
    dir
}

/// A test fixture from `tests/qemu/fixtures/`.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}
