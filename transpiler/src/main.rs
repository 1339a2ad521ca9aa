//! The `flint` binary: a Butane-compatible transpiler. See `flint --help`.

use std::process::ExitCode;

fn main() -> ExitCode {
    flint::cli::run(std::env::args_os())
}
