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
            cmdline, source, ..
        }) if source.kind() == std::io::ErrorKind::NotFound => {
            let program = cmdline.split(' ').next().unwrap_or_default().to_owned();
            Err(ToolFailure::Missing(error(
                platform,
                format!("{program} was not found on PATH: {missing}"),
            )))
        }
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
