//! The man pages and shell completions of `kindling` and `flint`, rendered from their own clap
//! command definitions so that they cannot drift from `--help`.
//!
//! Layout under the output directory (what `make install` and the Debian packages copy):
//! `man1/*.1`, `bash/<name>`, `zsh/_<name>`, `fish/<name>.fish`.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use clap::Command;
use clap_complete::Shell;

/// The engine's command line as `kindling --help` shows it.
pub fn kindling() -> Command {
    kindling::cli::Cli::command_for_help()
}

/// flint's command line, `flint sign` and `flint help` included.
pub fn flint() -> Command {
    flint::cli::command()
}

/// The engine's page lists the stage commands with the others (they are hidden from `--help`
/// only to keep it short) and says in prose what `--help` says in a table.
fn kindling_for_man() -> Command {
    let cmd = kindling();
    let stages: Vec<String> = cmd
        .get_subcommands()
        .filter(|s| s.is_hide_set())
        .map(|s| s.get_name().to_owned())
        .collect();
    let mut cmd = cmd.after_help(format!(
        "The stage commands ({}) are what the initramfs's kindling-<stage>.service units run, \
         in this order, on a first boot. Each has its own page, kindling-<stage>(1).",
        stages.join(", ")
    ));
    for name in stages {
        cmd = cmd.mut_subcommand(name, |s| s.hide(false));
    }
    cmd
}

/// Writes every page and completion for both programs under `out`; returns the files written.
pub fn generate(out: &Path) -> io::Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    for (page, cmd) in [(kindling_for_man(), kindling()), (flint(), flint())] {
        written.extend(man_pages(page, &out.join("man1"))?);
        written.extend(completions(cmd, out)?);
    }
    Ok(written)
}

/// One page for the program and one for each subcommand (`kindling-validate.1`, …). No
/// `help` subcommand: it would be listed with a page that does not exist.
fn man_pages(cmd: Command, dir: &Path) -> io::Result<Vec<PathBuf>> {
    fs::create_dir_all(dir)?;
    let mut cmd = cmd.disable_help_subcommand(true);
    // build() gives each subcommand its display name (kindling-validate) and usage prefix.
    cmd.build();
    let mut written = vec![render_page(&cmd, dir)?];
    for sub in cmd.get_subcommands() {
        // The footer shows name and version: "kindling-umount 0.1.0", not "umount".
        // clap takes owned names only with its "string" feature, which would reach the engine
        // through feature unification; a one-shot tool can leak a dozen short strings.
        let name: &'static str = Box::leak(
            sub.get_display_name()
                .unwrap_or_else(|| sub.get_name())
                .to_owned()
                .into_boxed_str(),
        );
        let page = sub.clone().name(name).version(env!("CARGO_PKG_VERSION"));
        written.push(render_page(&page, dir)?);
    }
    Ok(written)
}

fn render_page(cmd: &Command, dir: &Path) -> io::Result<PathBuf> {
    let name = cmd
        .get_display_name()
        .unwrap_or_else(|| cmd.get_name())
        .to_owned();
    let path = dir.join(format!("{name}.1"));
    let mut page = Vec::new();
    clap_mangen::Man::new(cmd.clone()).render(&mut page)?;
    fs::write(&path, page)?;
    Ok(path)
}

fn completions(mut cmd: Command, out: &Path) -> io::Result<Vec<PathBuf>> {
    let name = cmd.get_name().to_owned();
    let mut written = Vec::new();
    for (shell, dir, file) in [
        (Shell::Bash, "bash", name.clone()),
        (Shell::Zsh, "zsh", format!("_{name}")),
        (Shell::Fish, "fish", format!("{name}.fish")),
    ] {
        let dir = out.join(dir);
        fs::create_dir_all(&dir)?;
        let mut script = Vec::new();
        clap_complete::generate(shell, &mut cmd, &name, &mut script);
        let path = dir.join(file);
        fs::write(&path, script)?;
        written.push(path);
    }
    Ok(written)
}
