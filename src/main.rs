//! The `kindling` binary: a thin shell over the library.

use std::process::ExitCode;

use kindling::cli::{Cli, Command};

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info"))
        .format_target(false)
        .format_timestamp_millis()
        .init();
    // With RUST_LOG=debug the journal shows when the process got this far: at boot, the time
    // from systemd's "Starting" to this line is the cost of starting the engine.
    log::debug!("engine started");
    let cli = Cli::parse_args();
    let result = match cli.command {
        Command::Validate(args) => kindling::commands::validate::run(&args),
        Command::Translate(args) => kindling::commands::translate::run(&args),
        Command::Verify(args) => kindling::commands::verify::run(&args),
        Command::FetchOffline(args) => kindling::commands::stage::fetch_offline(&args),
        Command::Fetch(args) => kindling::commands::stage::fetch(&args),
        Command::Kargs(args) => kindling::commands::stage::kargs(&args),
        Command::Disks(args) => kindling::commands::stage::disks(&args),
        Command::Mount(args) => kindling::commands::stage::mount(&args),
        Command::Files(args) => kindling::commands::stage::files(&args),
        Command::Umount(args) => kindling::commands::stage::umount(&args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprint!("{}", kindling::cli::error_report(&err));
            ExitCode::FAILURE
        }
    }
}

// Parsing and validating big configs is allocation-bound; mimalloc roughly halves the time.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
