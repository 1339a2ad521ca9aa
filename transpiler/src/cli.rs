//! The `flint` command line, a drop-in for `butane`:
//! `flint [-p] [-s] [-d DIR] [-o FILE] [-c] [--raw-errors] [FILE|-]`.
//! Exit status: 0 on success (warnings allowed), 1 on any error or, with `--strict`, any
//! warning (no output is written then), 2 on usage errors.

use std::ffi::OsString;
use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Arg, ArgAction, ArgMatches, Command};

use crate::atomic::write_atomically;
use crate::{render, transpile, Options};

/// The command line; also what tools/docgen renders into the man page and completions.
pub fn command() -> Command {
    Command::new("flint")
        .version(env!("CARGO_PKG_VERSION"))
        .about("Translate a Butane config (YAML) into an Ignition config (JSON)")
        .override_usage(
            "flint [OPTIONS] [FILE]\n       flint sign [OPTIONS] --key <KEY> <CONFIG>\n       flint help [COMMAND]",
        )
        // `flint sign …` is a command; any other first argument is Butane's FILE (a file
        // named `sign` is `./sign`).
        .subcommand(crate::sign::command())
        .args_conflicts_with_subcommands(true)
        .arg(
            Arg::new("input")
                .value_name("FILE")
                .help("the Butane config to read; stdin if absent or -"),
        )
        .arg(flag("pretty", 'p', "output formatted json"))
        .arg(flag("strict", 's', "fail on any warning"))
        .arg(flag("check", 'c', "check config without producing output"))
        .arg(
            Arg::new("files-dir")
                .short('d')
                .long("files-dir")
                .value_name("DIR")
                .value_parser(clap::value_parser!(PathBuf))
                .help("allow embedding local files from this directory"),
        )
        .arg(
            Arg::new("output")
                .short('o')
                .long("output")
                .value_name("FILE")
                .value_parser(clap::value_parser!(PathBuf))
                .help("write to output file instead of stdout"),
        )
        .arg(
            Arg::new("raw-errors")
                .long("raw-errors")
                .action(ArgAction::SetTrue)
                .help("print errors as `error at $.path, line L col C: message`"),
        )
        .arg(
            Arg::new("color")
                .long("color")
                .visible_alias("colour")
                .value_name("WHEN")
                .value_parser(["auto", "always", "never", "yes", "no"])
                .default_value("auto")
                .default_missing_value("always")
                .num_args(0..=1)
                .help("color in error output"),
        )
        .arg(
            flag(
                "raw",
                'r',
                "accepted for compatibility; output is always Ignition",
            )
            .hide(true),
        )
        .arg(
            Arg::new("legacy-input")
                .long("input")
                .value_name("FILE")
                .hide(true)
                .conflicts_with("input"),
        )
}

fn flag(name: &'static str, short: char, help: &'static str) -> Arg {
    Arg::new(name)
        .short(short)
        .long(name)
        .action(ArgAction::SetTrue)
        .help(help)
}

/// Parses arguments; on a usage error (or --help/--version) prints it and gives the exit
/// status: 0 for help and version, 2 for usage errors.
pub(crate) fn parse_args(
    cmd: Command,
    args: impl IntoIterator<Item = OsString>,
) -> Result<ArgMatches, ExitCode> {
    cmd.try_get_matches_from(args).map_err(|e| {
        let _ = e.print();
        ExitCode::from(match e.kind() {
            clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => 0,
            _ => 2,
        })
    })
}

/// Runs the command line and returns the process exit status.
pub fn run(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let matches = match parse_args(command(), args) {
        Ok(m) => m,
        Err(code) => return code,
    };
    if let Some(("sign", sign)) = matches.subcommand() {
        return crate::sign::run(sign);
    }
    match translate(&matches) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("flint: {message}");
            ExitCode::from(1)
        }
    }
}

fn translate(m: &ArgMatches) -> Result<ExitCode, String> {
    let input = m
        .get_one::<String>("input")
        .or_else(|| m.get_one::<String>("legacy-input"))
        .filter(|i| i.as_str() != "-");
    let (bytes, name) = read_input(input.map(String::as_str))?;
    let options = Options {
        files_dir: m.get_one::<PathBuf>("files-dir").cloned(),
        pretty: m.get_flag("pretty"),
    };
    let outcome = transpile(&bytes, &options);

    // In the order of the source, so a reader goes down the file once; findings without a
    // position (about the whole config) come last. The sort is stable.
    let mut sorted = outcome.report.entries.clone();
    sorted.sort_by_key(|e| e.pos.map_or((u32::MAX, u32::MAX), |p| (p.line, p.col)));
    let entries = &sorted;
    if !entries.is_empty() {
        let text = if m.get_flag("raw-errors") {
            render::raw(entries)
        } else {
            let source = String::from_utf8_lossy(&bytes);
            render::pretty(entries, &name, &source, use_color(m))
        };
        let _ = std::io::stderr().write_all(text.as_bytes());
    }
    let Some(json) = outcome.json else {
        return Err(format!("translating {name} failed: {}", summary(entries)));
    };
    if m.get_flag("strict") && !entries.is_empty() {
        // Butane's wording, which scripts match, with the count after it.
        return Err(format!(
            "config produced warnings and --strict was specified ({})",
            summary(entries)
        ));
    }
    if !m.get_flag("check") {
        let mut data = json.into_bytes();
        data.push(b'\n');
        match m.get_one::<PathBuf>("output") {
            Some(path) => write_atomically(path, &data)
                .map_err(|e| format!("writing {}: {e}", path.display()))?,
            None => std::io::stdout()
                .write_all(&data)
                .map_err(|e| format!("writing the config to stdout: {e}"))?,
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Reads at most one byte more than [`crate::yaml::MAX_INPUT_BYTES`], so that `/dev/zero` or
/// an endless pipe is refused at the limit instead of filling memory.
/// `2 errors, 1 warning`: every finding counted, by kind.
fn summary(entries: &[crate::report::Entry]) -> String {
    let count = |kind| entries.iter().filter(|e| e.kind == kind).count();
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    let (errors, warnings) = (
        count(crate::report::Kind::Error),
        count(crate::report::Kind::Warning),
    );
    match (errors, warnings) {
        (e, 0) => plural(e, "error"),
        (0, w) => plural(w, "warning"),
        (e, w) => format!("{}, {}", plural(e, "error"), plural(w, "warning")),
    }
}

fn read_input(path: Option<&str>) -> Result<(Vec<u8>, String), String> {
    let (reader, name): (Box<dyn Read>, String) = match path {
        Some(p) => (
            Box::new(std::fs::File::open(p).map_err(|e| format!("reading {p}: {e}"))?),
            p.to_owned(),
        ),
        None => (Box::new(std::io::stdin()), "<stdin>".to_owned()),
    };
    let limit = crate::yaml::MAX_INPUT_BYTES;
    let mut data = Vec::new();
    reader
        .take(limit as u64 + 1)
        .read_to_end(&mut data)
        .map_err(|e| format!("reading {name}: {e}"))?;
    if data.len() > limit {
        return Err(format!(
            "reading {name}: {}",
            crate::yaml::too_large(data.len())
        ));
    }
    Ok((data, name))
}

fn use_color(m: &ArgMatches) -> bool {
    match m.get_one::<String>("color").map(String::as_str) {
        Some("always" | "yes") => true,
        Some("never" | "no") => false,
        _ => std::env::var_os("NO_COLOR").is_none() && std::io::stderr().is_terminal(),
    }
}
