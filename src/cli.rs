//! Command-line definitions. The shape is a contract (DESIGN.md §6): tests, benchmarks and
//! the dracut units all call it.

use std::path::PathBuf;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};

/// Exit code for a config that is not valid.
pub const EXIT_INVALID: u8 = 1;
/// Exit code for a usage problem: bad flags, or an input that cannot be read.
pub const EXIT_USAGE: u8 = 2;

#[derive(Debug, Parser)]
#[command(
    name = "kindling",
    version,
    about = "First-boot provisioning for image-based Linux"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// The stage commands and the options each one reads; every stage accepts all of
/// [`StageArgs`] (scripts and units pass them alike), but shows only its own in `--help`.
pub const STAGES: &[(&str, &[&str])] = &[
    ("fetch-offline", FETCH_OPTIONS),
    ("fetch", FETCH_OPTIONS),
    ("kargs", &["run_dir", "device_timeout"]),
    ("disks", &["run_dir", "trust_dir", "device_timeout"]),
    ("mount", &["root", "run_dir", "device_timeout"]),
    ("files", &["root", "run_dir", "trust_dir", "cmdline_file"]),
    ("umount", &["root", "run_dir"]),
];

const FETCH_OPTIONS: &[&str] = &[
    "platform",
    "run_dir",
    "trust_dir",
    "cmdline_file",
    "base_dir",
    "config_dirs",
    "config_timeout",
];

impl Cli {
    /// The command line as users see it: `validate` and `verify` listed as commands, the
    /// stages under their own heading (the initramfs units run them), each stage's help
    /// showing only the options it reads.
    pub fn command_for_help() -> clap::Command {
        let mut cmd = Self::command();
        let mut stages = String::from(
            "Stage commands (the initramfs's kindling-<stage>.service units run these, in this order, on a first boot):\n",
        );
        for (name, uses) in STAGES {
            cmd = cmd.mut_subcommand(*name, |mut sub| {
                let about = sub.get_about().map(ToString::to_string).unwrap_or_default();
                stages.push_str(&format!("  {name:<14} {about}\n"));
                let ids: Vec<String> = sub
                    .get_arguments()
                    .map(|a| a.get_id().to_string())
                    .collect();
                for id in ids.iter().filter(|id| !uses.contains(&id.as_str())) {
                    sub = sub.mut_arg(id, |a| a.hide(true));
                }
                sub.hide(true)
            });
        }
        cmd.after_help(stages.trim_end().to_owned())
    }

    pub fn parse_args() -> Self {
        let matches = Self::command_for_help().get_matches();
        Self::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check an Ignition config (spec 3.0.0 to 3.6.0, or Flatcar's 1 and 2.x) and print what is wrong with it.
    Validate(ValidateArgs),
    /// Translate a config (spec 1, 2.x or 3.x) to a spec 3.x config and print it as JSON.
    Translate(TranslateArgs),
    /// Decide offline, as the initramfs would, whether a config passes the trust policy.
    Verify(VerifyArgs),
    /// Get the config from local sources; note in <run-dir>/neednet when the network is needed.
    FetchOffline(StageArgs),
    /// Get the config, with the network up (does nothing when fetch-offline already did).
    Fetch(StageArgs),
    /// Put kernelArguments into the installed system's boot entries (reboots when changed).
    Kargs(StageArgs),
    /// Partition disks, build RAID arrays and create filesystems.
    Disks(StageArgs),
    /// Mount the config's filesystems under the root, shortest path first.
    Mount(StageArgs),
    /// Write files, directories, links, users, groups and systemd units into the root.
    Files(StageArgs),
    /// Unmount what the mount stage mounted, deepest path first.
    Umount(StageArgs),
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Policy and certificates, as they will be in the initramfs.
    #[arg(long, value_name = "DIR", default_value = "/etc/kindling")]
    pub trust_dir: PathBuf,
    /// A detached signature for the config (as served at `<config url>.asc`).
    #[arg(long, value_name = "FILE")]
    pub signature: Option<PathBuf>,
    /// The pin that would be on the kernel command line (`sha512-<hex>`).
    #[arg(long, value_name = "HASH")]
    pub hash: Option<String>,
    /// The config as it will be delivered (plain JSON, or an OpenPGP signed message).
    #[arg(value_name = "CONFIG")]
    pub config: PathBuf,
}

/// Options every stage takes (DESIGN.md §6).
#[derive(Debug, Clone, Args)]
pub struct StageArgs {
    /// Which provider supplies the config (default: kindling.platform.id, else metal).
    #[arg(long, value_name = "ID")]
    pub platform: Option<String>,
    /// The target root.
    #[arg(long, value_name = "DIR", default_value = "/sysroot")]
    pub root: PathBuf,
    /// Where config.json, state.json and neednet live.
    #[arg(long, value_name = "DIR", default_value = "/run/kindling")]
    pub run_dir: PathBuf,
    /// Where the trust policy and certificates live.
    #[arg(long, value_name = "DIR", default_value = "/etc/kindling")]
    pub trust_dir: PathBuf,
    /// The kernel command line to read.
    #[arg(long, value_name = "FILE", default_value = "/proc/cmdline")]
    pub cmdline_file: PathBuf,
    /// Only this directory's *.json as base configs, instead of base.d/ and
    /// base.platform.d/<platform>/ in the config directories.
    #[arg(long, value_name = "DIR")]
    pub base_dir: Option<PathBuf>,
    /// Where system configs (user.ign, base.d/, base.platform.d/<platform>/) are looked for,
    /// highest priority first (repeat the option for several).
    #[arg(
        long = "config-dir",
        value_name = "DIR",
        default_values = crate::providers::system::CONFIG_DIRS
    )]
    pub config_dirs: Vec<PathBuf>,
    /// Give up on getting the root config and everything it references after this many seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 120)]
    pub config_timeout: u64,
    /// Give up waiting for a device the config names (disks, mount) after this many seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 90)]
    pub device_timeout: u64,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Treat warnings, such as unused keys, as errors.
    #[arg(long)]
    pub strict: bool,
    /// The config file, or `-` for standard input.
    #[arg(value_name = "FILE|-")]
    pub file: PathBuf,
}

#[derive(Debug, Args)]
pub struct TranslateArgs {
    /// The spec version to write (3.0.0 to 3.6.0; default the newest).
    #[arg(long, value_name = "VERSION", value_parser = parse_spec_version)]
    pub to: Option<kindling_spec::SpecVersion>,
    /// The config file, or `-` for standard input.
    #[arg(value_name = "FILE|-")]
    pub file: PathBuf,
}

fn parse_spec_version(text: &str) -> Result<kindling_spec::SpecVersion, String> {
    kindling_spec::SpecVersion::ALL
        .into_iter()
        .find(|v| v.as_str() == text)
        .ok_or_else(|| {
            format!(
                "{text:?} is not a spec version Kindling writes: use one of {}",
                kindling_spec::SpecVersion::ALL
                    .map(|v| v.as_str())
                    .join(", ")
            )
        })
}

/// What the binary prints for a failed command: `error: <what failed>`, then one
/// `  caused by: ...` line per cause, as one text written at once so that no other output
/// (a log line from a worker thread) lands between the lines the emergency summary collects.
///
/// A stage failure always says why: a cause with no text of its own is shown by its type
/// (Debug), and when the chain names no cause at all the report says so instead of ending
/// at the bare "stage failed".
pub fn error_report(err: &anyhow::Error) -> String {
    let mut out = format!("error: {err}\n");
    let mut causes = 0;
    for cause in err.chain().skip(1) {
        let text = cause.to_string();
        let text = if text.trim().is_empty() {
            format!("{cause:?}")
        } else {
            text
        };
        out.push_str("  caused by: ");
        out.push_str(&text);
        out.push('\n');
        causes += 1;
    }
    if causes == 0 && err.to_string().ends_with("stage failed") {
        out.push_str("  caused by: (the error carried no further detail; RUST_LOG=debug shows the steps before it)\n");
    }
    out
}

#[cfg(test)]
mod error_report_tests {
    use super::error_report;
    use anyhow::Context;

    #[derive(Debug, thiserror::Error)]
    #[error("")]
    struct Silent;

    #[derive(Debug, thiserror::Error)]
    #[error("refusing /x: the link /a -> / leads nowhere")]
    struct Refused;

    #[test]
    fn every_cause_gets_a_line() {
        let err = Err::<(), _>(Refused)
            .context("files stage failed")
            .unwrap_err();
        assert_eq!(
            error_report(&err),
            "error: files stage failed\n  caused by: refusing /x: the link /a -> / leads nowhere\n"
        );
    }

    #[test]
    fn a_cause_without_text_is_still_shown() {
        let err = Err::<(), _>(Silent)
            .context("files stage failed")
            .unwrap_err();
        let report = error_report(&err);
        assert_eq!(report, "error: files stage failed\n  caused by: Silent\n");
    }
}
