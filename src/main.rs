//! The `kindling` binary: a thin shell over the library.

use std::process::ExitCode;

use clap::Parser;
use kindling::cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Validate(args) => kindling::commands::validate::run(&args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err}");
            for cause in err.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::from(kindling::cli::EXIT_USAGE)
        }
    }
}
