//! The stage subcommands: build the stage context from flags and the kernel command line,
//! run the stage, and turn its error into the message the journal shows.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};

use crate::cli::StageArgs;
use crate::cmdline::Cmdline;
use crate::providers::Environment;
use crate::stages::{self, fetch::Outcome, StageContext};

fn context(args: &StageArgs) -> Result<StageContext> {
    let cmdline = Cmdline::read(&args.cmdline_file).with_context(|| {
        format!(
            "reading the kernel command line from {}",
            args.cmdline_file.display()
        )
    })?;
    let platform = crate::flatcar::resolve_platform(args.platform.as_deref(), &cmdline)?;
    Ok(StageContext {
        root: args.root.clone(),
        run_dir: args.run_dir.clone(),
        trust_dir: args.trust_dir.clone(),
        base_dir: args.base_dir.clone(),
        config_dirs: args.config_dirs.clone(),
        cmdline,
        platform,
        env: Environment::from_process(),
        config_timeout: Duration::from_secs(args.config_timeout),
        policy: crate::verify::policy::Policy::load(&args.trust_dir)?,
    })
}

fn report(outcome: Outcome) -> ExitCode {
    match outcome {
        Outcome::Fetched { source } => log::info!("fetch: config from {source} ready"),
        Outcome::NeedsNetwork { url } => log::info!("fetch-offline: {url} needs the network"),
        Outcome::AlreadyFetched => log::info!("fetch: config already fetched by fetch-offline"),
    }
    ExitCode::SUCCESS
}

pub fn fetch_offline(args: &StageArgs) -> Result<ExitCode> {
    let ctx = context(args)?;
    let outcome = stages::fetch::fetch_offline(&ctx).context("fetch-offline stage failed")?;
    Ok(report(outcome))
}

pub fn fetch(args: &StageArgs) -> Result<ExitCode> {
    let ctx = context(args)?;
    let outcome = stages::fetch::fetch(&ctx).context("fetch stage failed")?;
    Ok(report(outcome))
}

pub fn files(args: &StageArgs) -> Result<ExitCode> {
    let ctx = context(args)?;
    stages::files::run(&ctx).context("files stage failed")?;
    Ok(ExitCode::SUCCESS)
}

pub fn disks(args: &StageArgs) -> Result<ExitCode> {
    let ctx = context(args)?;
    stages::disks::run(&ctx, Duration::from_secs(args.device_timeout))
        .context("disks stage failed")?;
    Ok(ExitCode::SUCCESS)
}

pub fn mount(args: &StageArgs) -> Result<ExitCode> {
    let ctx = context(args)?;
    stages::mount::run_mount(&ctx, Duration::from_secs(args.device_timeout))
        .context("mount stage failed")?;
    Ok(ExitCode::SUCCESS)
}

pub fn umount(args: &StageArgs) -> Result<ExitCode> {
    let ctx = context(args)?;
    stages::mount::run_umount(&ctx).context("umount stage failed")?;
    Ok(ExitCode::SUCCESS)
}

pub fn kargs(args: &StageArgs) -> Result<ExitCode> {
    let ctx = context(args)?;
    stages::kargs::run(&ctx, Duration::from_secs(args.device_timeout))
        .context("kargs stage failed")?;
    Ok(ExitCode::SUCCESS)
}
