//! `kindling translate [--to 3.x.0] FILE|-`: a config of any version Kindling reads, written
//! out as a spec 3.x config. For Flatcar users moving spec 1 and 2.x configs to 3.x, it
//! shows exactly what the engine would run at boot.

use std::io::Write;
use std::process::ExitCode;

use anyhow::{Context, Result};
use kindling_spec::{Options, SpecVersion};

use crate::cli::{TranslateArgs, EXIT_INVALID, EXIT_USAGE};
use crate::input::read_config;

/// Writes the translated config to stdout and the report (warnings, or what is wrong) to
/// stderr, so the output can be piped straight into a file. Exit 0 when translated, 1 when
/// the config is invalid or cannot be translated, 2 on usage problems.
pub fn run(args: &TranslateArgs) -> Result<ExitCode> {
    let bytes = match read_config(&args.file) {
        Ok(bytes) => bytes,
        Err(err) => {
            eprintln!("error: {err:#}");
            return Ok(ExitCode::from(EXIT_USAGE));
        }
    };
    let to = args.to.unwrap_or(SpecVersion::NEWEST);
    match kindling_spec::translate(&bytes, Options::default(), to) {
        Ok(parsed) => {
            eprint!("{}", parsed.report);
            let json = serde_json::to_string_pretty(&parsed.config)
                .context("writing the translated config as JSON")?;
            // What only a translated config may hold (Flatcar's oem:// sources) is kept for the
            // user to replace; say where, so the output is not mistaken for a finished 3.x
            // config.
            if let (Some(_), Err(report)) = (
                parsed.legacy,
                kindling_spec::parse(json.as_bytes(), Options::default()),
            ) {
                eprintln!(
                    "warning: the engine runs this translation as it is, but as a {to} config of its own it needs these changes first:"
                );
                eprint!("{report}");
            }
            let mut out = std::io::stdout().lock();
            // A closed pipe (e.g. `| head`) is not worth a panic.
            let _ = writeln!(out, "{json}");
            Ok(ExitCode::SUCCESS)
        }
        Err(report) => {
            eprint!("{report}");
            Ok(ExitCode::from(EXIT_INVALID))
        }
    }
}
