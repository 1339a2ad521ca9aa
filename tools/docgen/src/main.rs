//! `kindling-docgen OUT_DIR`: writes the man pages and shell completions of kindling and
//! flint under OUT_DIR (see the library for the layout). Used by `make install` and
//! tools/build-deb.sh.

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let (Some(out), None) = (args.next(), args.next()) else {
        eprintln!("usage: kindling-docgen OUT_DIR");
        return ExitCode::from(2);
    };
    let out = PathBuf::from(out);
    match kindling_docgen::generate(&out) {
        Ok(files) => {
            eprintln!(
                "kindling-docgen: {} files under {}",
                files.len(),
                out.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("kindling-docgen: writing under {}: {e}", out.display());
            ExitCode::FAILURE
        }
    }
}
