//! Secure Boot pieces for the QEMU tests: our own PK/KEK/db enrolled in an OVMF variable store
//! (tools/secure-boot-keys.sh, cached under the work dir), UKIs built and signed with
//! tools/build-uki.sh, and ESP images made with mtools (no loop mounts).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use crate::vm::{Uefi, BASE_CMDLINE};
use crate::Setup;

/// Which key signs a UKI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signer {
    /// The db key the firmware trusts.
    Db,
    /// A key that is not enrolled.
    Other,
}

/// The key set and the variable store with it enrolled.
#[derive(Debug)]
pub struct Keys {
    pub dir: PathBuf,
}

impl Keys {
    pub fn vars(&self) -> PathBuf {
        self.dir.join("vars.fd")
    }

    fn key(&self, signer: Signer) -> (PathBuf, PathBuf) {
        let name = match signer {
            Signer::Db => "db",
            Signer::Other => "other",
        };
        let keys = self.dir.join("keys");
        (
            keys.join(format!("{name}.key")),
            keys.join(format!("{name}.crt")),
        )
    }
}

fn run(what: &str, command: &mut Command) {
    let out = command
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot start: {e}"));
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The key set, made once per test run.
pub fn keys(setup: &Setup) -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let dir = setup.work.join("secure-boot");
        run(
            "tools/secure-boot-keys.sh",
            Command::new("bash")
                .arg(setup.repo.join("tools/secure-boot-keys.sh"))
                .arg(&dir)
                .current_dir(&setup.repo),
        );
        Keys { dir }
    })
}

/// A UKI of the setup's kernel and `initrd`, with the base command line plus `extra`
/// (and the config hash pin of `pin`), signed by `signer`.
pub fn uki(
    setup: &Setup,
    keys: &Keys,
    out: &Path,
    initrd: &Path,
    extra: &[&str],
    pin: Option<&Path>,
    signer: Signer,
) -> PathBuf {
    let cmdline: Vec<&str> = BASE_CMDLINE.iter().chain(extra).copied().collect();
    let (key, cert) = keys.key(signer);
    let mut command = Command::new("bash");
    command
        .arg(setup.repo.join("tools/build-uki.sh"))
        .arg("--kernel")
        .arg(&setup.kernel)
        .arg("--initrd")
        .arg(initrd)
        .arg("--cmdline")
        .arg(cmdline.join(" "))
        .arg("--key")
        .arg(key)
        .arg("--cert")
        .arg(cert);
    if let Some(config) = pin {
        command.arg("--pin").arg(config);
    }
    run(
        "tools/build-uki.sh",
        command.arg(out).current_dir(&setup.repo),
    );
    out.to_owned()
}

/// Replaces `from` by `to` (same length) in the UKI's bytes: a change after signing.
pub fn tamper(uki: &Path, from: &str, to: &str) {
    assert_eq!(from.len(), to.len(), "the replacement must keep the length");
    let mut bytes = std::fs::read(uki).expect("reading the UKI");
    let at = bytes
        .windows(from.len())
        .position(|w| w == from.as_bytes())
        .unwrap_or_else(|| panic!("{from:?} is not in {}", uki.display()));
    bytes[at..at + to.len()].copy_from_slice(to.as_bytes());
    std::fs::write(uki, bytes).expect("writing the UKI");
}

/// An ESP image holding `uki` as the removable-media boot loader, plus `extra` files
/// (ESP path, contents), such as credentials systemd-stub would pick up.
pub fn esp(dir: &Path, uki: &Path, extra: &[(&str, &[u8])]) -> PathBuf {
    let image = dir.join("esp.img");
    let _ = std::fs::remove_file(&image);
    let size_kib = std::fs::metadata(uki).expect("UKI").len() / 1024 + 16 * 1024;
    run(
        "mkfs.vfat",
        Command::new("mkfs.vfat")
            .args(["-C", "-n", "ESP"])
            .arg(&image)
            .arg(size_kib.to_string()),
    );
    let mtools = |args: &[&str]| {
        let mut c = Command::new(args[0]);
        c.arg("-i").arg(&image).args(&args[1..]);
        run(args[0], &mut c);
    };
    mtools(&["mmd", "::/EFI", "::/EFI/BOOT"]);
    let uki_str = uki.to_str().expect("UTF-8 path");
    mtools(&["mcopy", uki_str, "::/EFI/BOOT/BOOTX64.EFI"]);
    for (path, contents) in extra {
        let local = dir.join(path.replace('/', "_"));
        std::fs::write(&local, contents).expect("writing an ESP file");
        let parent = Path::new(path).parent().expect("a path in a directory");
        let mut made = String::from("::");
        for part in parent.iter() {
            made.push('/');
            made.push_str(&part.to_string_lossy());
            let mut c = Command::new("mmd");
            // Already there is fine.
            let _ = c.arg("-i").arg(&image).arg(&made).output();
        }
        mtools(&[
            "mcopy",
            local.to_str().expect("UTF-8 path"),
            &format!("::/{path}"),
        ]);
    }
    image
}

/// The UEFI settings for a VM booting `esp` under our keys.
pub fn uefi(keys: &Keys, esp: &Path) -> Uefi {
    Uefi {
        vars: keys.vars(),
        esp: esp.to_owned(),
    }
}
