//! Command-line definitions. The shape is a contract (DESIGN.md §6): tests, benchmarks and
//! the dracut units all call it.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

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

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check an Ignition config (spec 3.0.0 to 3.6.0) and print what is wrong with it.
    Validate(ValidateArgs),
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
    /// Base configs merged under the user config.
    #[arg(long, value_name = "DIR", default_value = "/usr/lib/kindling/base.d")]
    pub base_dir: PathBuf,
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
