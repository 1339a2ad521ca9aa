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
