//! What the platforms whose config comes through the hypervisor's guest interface share
//! (vmware, virtualbox, hyperv, applehv, zvm, nvidiabluefield, qemu): running the guest
//! tools through the one command helper, with a clear word when a tool is missing, and
//! loading the kernel driver for a device.

use std::path::Path;
use std::process::Output;

use super::{Environment, ProviderError};
use crate::command::{Cmd, CommandError};

/// An error for `platform`: what went wrong and, where there is one, the fix.
pub fn error(platform: &'static str, reason: impl Into<String>) -> ProviderError {
    ProviderError::Host {
        platform,
        reason: reason.into(),
    }
}

/// Why a guest tool gave no output.
#[derive(Debug)]
pub enum ToolFailure {
    /// The tool is not installed: already an error that says so and what to install.
    Missing(ProviderError),
    /// It ran and failed; the caller decides what its stderr means.
    Failed(CommandError),
}

/// Runs a guest tool. A tool that is not installed gets `missing` as its explanation (which
/// package, why it may be absent); any other failure carries the command line and stderr.
pub fn run(platform: &'static str, cmd: Cmd, missing: &str) -> Result<Output, ToolFailure> {
    match cmd.run() {
        Ok(out) => Ok(out),
        Err(CommandError::Spawn {
            program, source, ..
        }) if source.kind() == std::io::ErrorKind::NotFound => Err(ToolFailure::Missing(error(
            platform,
            format!("{program} was not found on PATH: {missing}"),
        ))),
        Err(e) => Err(ToolFailure::Failed(e)),
    }
}

/// Like [`run`], for callers with no use for the failure's details: every failure is an
/// error for `platform`.
pub fn run_or_fail(
    platform: &'static str,
    cmd: Cmd,
    missing: &str,
) -> Result<Output, ProviderError> {
    run(platform, cmd, missing).map_err(|e| match e {
        ToolFailure::Failed(failed) => error(platform, failed.to_string()),
        ToolFailure::Missing(e) => e,
    })
}

/// Loads kernel module `module` unless `<sysfs>/<present>` shows that its driver is there.
///
/// With a stand-in sysfs (tests), nothing is loaded: a module changes the running kernel,
/// which the stand-in does not describe.
pub fn load_module(
    platform: &'static str,
    env: &Environment,
    module: &str,
    present: Option<&str>,
) -> Result<(), ProviderError> {
    if !env.real_sysfs() {
        log::debug!(
            "not loading {module}: sysfs is a stand-in ({})",
            env.sysfs().display()
        );
        return Ok(());
    }
    if present.is_some_and(|p| env.sysfs().join(p).exists()) {
        return Ok(());
    }
    modprobe(platform, module)
}

/// `modprobe module`, always.
pub fn modprobe(platform: &'static str, module: &str) -> Result<(), ProviderError> {
    run_or_fail(
        platform,
        Cmd::new(format!("loading the {module} driver"), "modprobe").arg(module),
        "the initramfs needs kmod's modprobe",
    )
    .map(drop)
}

/// The config on a device that pads it with NULs to whole records or sectors (a config disk,
/// a boot FIFO), without the padding, at most `limit` bytes of it. A config that fills the
/// limit and goes on is too large; NULs after it are padding, however much of it there is,
/// and are not read.
pub fn read_padded(path: &Path, limit: u64) -> Result<Vec<u8>, ProviderError> {
    use crate::bounded::{read, Bounded};
    match read(path, limit) {
        Ok(Bounded::Cut { next, .. }) if next != 0 => Err(ProviderError::TooLarge {
            source_name: path.display().to_string(),
            size: None,
            limit,
        }),
        Ok(Bounded::Whole(bytes) | Bounded::Cut { head: bytes, .. }) => {
            Ok(trim_nuls(&bytes).to_vec())
        }
        Err(source) => Err(ProviderError::Read {
            path: path.to_owned(),
            source,
        }),
    }
}

/// NUL bytes at both ends are padding, not config: devices hand out fixed-size records.
pub fn trim_nuls(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    let end = bytes.iter().rposition(|&b| b != 0).map_or(start, |i| i + 1);
    &bytes[start..end]
}

/// Whether `path` is the production sysfs root.
pub fn is_real_sysfs(path: &Path) -> bool {
    path == Path::new("/sys")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device(bytes: &[u8]) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("disk");
        std::fs::write(&path, bytes).expect("disk");
        (dir, path)
    }

    #[test]
    fn a_padded_config_is_read_without_its_padding_however_long_the_device() {
        let mut bytes = vec![0u8; 3];
        bytes.extend_from_slice(br#"{"ignition":{"version":"3.4.0"}}"#);
        bytes.resize(1 << 20, 0);
        let (_dir, path) = device(&bytes);
        assert_eq!(
            read_padded(&path, 4096).expect("read"),
            br#"{"ignition":{"version":"3.4.0"}}"#
        );
    }

    #[test]
    fn a_padded_config_past_the_limit_is_refused_without_reading_it_whole() {
        let (_dir, path) = device(&[b' '; 8192]);
        let err = read_padded(&path, 4096).expect_err("too large").to_string();
        assert!(
            err.contains("is larger than the limit of 4096 bytes (raise maxConfigBytes"),
            "{err}"
        );
        assert!(!err.contains("8192"), "the size is not known: {err}");
    }

    #[test]
    fn nuls_are_trimmed_at_both_ends_only() {
        assert_eq!(trim_nuls(b"\0\0{\0}\0\0"), b"{\0}");
        assert_eq!(trim_nuls(b"\0\0\0"), b"");
        assert_eq!(trim_nuls(b""), b"");
        assert_eq!(trim_nuls(b"{}"), b"{}");
    }

    #[test]
    fn a_missing_tool_is_named_with_the_fix() {
        let err = run_or_fail(
            "vmware",
            Cmd::new("reading", "/nonexistent/vmware-rpctool"),
            "install open-vm-tools",
        )
        .expect_err("missing");
        assert_eq!(
            err.to_string(),
            "platform vmware: /nonexistent/vmware-rpctool was not found on PATH: install open-vm-tools"
        );
    }
}
