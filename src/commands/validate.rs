//! `kindling validate [--strict] FILE|-`

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use kindling_spec::{Options, Report};

use crate::cli::{ValidateArgs, EXIT_INVALID, EXIT_USAGE};
use crate::input::read_config;

/// Prints one line per report entry; exit 0 when valid (warnings allowed), 1 when not.
pub fn run(args: &ValidateArgs) -> Result<ExitCode> {
    let bytes = match read_config(&args.file) {
        Ok(bytes) => bytes,
        Err(err) => {
            eprintln!("error: {err:#}");
            return Ok(ExitCode::from(EXIT_USAGE));
        }
    };
    let options = Options {
        strict: args.strict,
    };
    let (report, valid) = match kindling_spec::parse(&bytes, options) {
        Ok(parsed) => (parsed.report, true),
        Err(report) => (report, false),
    };
    print_report(&report);
    Ok(if valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_INVALID)
    })
}

fn print_report(report: &Report) {
    let mut out = std::io::stdout().lock();
    // A closed pipe (e.g. `| head`) is not worth a panic.
    let _ = write!(out, "{report}");
}
