//! Step 4 of the pipeline, assemble: merge the rendered user config over the base configs
//! (base.d/ then base.platform.d/<platform>/ in the system config directories, each in name
//! order), and hand the result to the later stages through the run directory.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use kindling_spec::types::Resource;
use kindling_spec::Config;

use super::render::{self, ChainError, Network};
use super::PipelineError;
use crate::fetch::redact::redact;
use crate::fetch::FetchSettings;
use crate::stages::runtime::{self, State};
use crate::stages::{plan, StageContext};

/// The config the later stages apply: the base configs with the user config over them.
pub fn assemble(
    ctx: &StageContext,
    user: Option<Config>,
    network: Network,
    state: &mut State,
) -> Result<Config, PipelineError> {
    let mut bases: Vec<Base> = base_files(ctx)?.into_iter().map(Base::File).collect();
    if let Some(oem) = oem_base_config(ctx)? {
        // Lowest priority: the initramfs's own base configs and the user config go over it.
        bases.insert(0, oem);
    }
    let base = base_config(
        &bases,
        network,
        &ctx.fetch_settings(),
        ctx.policy.config_limit(),
        state,
    )?;
    let mut config = match user {
        // Merging over nothing changes nothing, and would cost two JSON trees of the config.
        Some(user) if base == Config::default() => user,
        Some(user) => {
            kindling_spec::merge::merge(&base, &user).map_err(|e| ChainError::Invalid {
                chain: "base configs + user config".into(),
                report: e.to_string(),
            })?
        }
        None => base,
    };
    config.ignition.version = kindling_spec::SpecVersion::NEWEST.to_string();
    if network == Network::Offline {
        if let Some(what) = later_network_need(&config) {
            // The later stages fetch these; the fetch stage brings the network up for them.
            return Err(ChainError::NeedsNetwork { url: what }.into());
        }
    }
    Ok(config)
}

/// Writes the plan, then config.json and state.json: a config.json on disk means the stages
/// after may start. A stale neednet marker goes.
pub fn write_run_dir(
    run_dir: &Path,
    config: &Config,
    state: &State,
) -> Result<(), runtime::RuntimeError> {
    plan::write(run_dir, config)?;
    runtime::write_config(run_dir, config, state)?;
    let _ = std::fs::remove_file(runtime::neednet_path(run_dir));
    Ok(())
}

/// Tells the dracut units that the fetch stage must run with the network up.
pub fn write_neednet(run_dir: &Path) -> Result<(), runtime::RuntimeError> {
    let path = runtime::neednet_path(run_dir);
    std::fs::create_dir_all(run_dir)
        .and_then(|()| std::fs::write(&path, b""))
        .map_err(|source| runtime::RuntimeError::Write { path, source })
}

/// The first thing the later stages will need the network for: a remote file, append or LUKS
/// key, or a clevis binding to a Tang server (or a custom pin that says it needs it).
fn later_network_need(config: &Config) -> Option<String> {
    let storage = &config.storage;
    let remote = |r: &Resource| {
        r.source
            .as_deref()
            .filter(|u| render::needs_network(u))
            .map(redact)
    };
    storage
        .files
        .iter()
        .flat_map(|f| std::iter::once(&f.contents).chain(&f.append))
        .chain(storage.luks.iter().map(|l| &l.key_file))
        .find_map(remote)
        .or_else(|| {
            storage.luks.iter().enumerate().find_map(|(i, l)| {
                if let Some(t) = l.clevis.tang.first() {
                    Some(format!(
                        "the Tang server {} ($.storage.luks.{i})",
                        redact(&t.url)
                    ))
                } else if l.clevis.custom.needs_network == Some(true) {
                    Some(format!("the clevis pin of $.storage.luks.{i}"))
                } else {
                    None
                }
            })
        })
}

/// The base configs, in the order they are merged: with `--base-dir`, that directory's
/// configs; otherwise base.d/ and then base.platform.d/<platform>/ across the config
/// directories, where a file name in a higher-priority directory hides the same name below.
fn base_files(ctx: &StageContext) -> Result<Vec<PathBuf>, PipelineError> {
    if let Some(dir) = &ctx.base_dir {
        return Ok(configs_in(dir)?.into_values().collect());
    }
    let mut files = layered(&ctx.config_dirs, Path::new("base.d"))?;
    files.extend(layered(
        &ctx.config_dirs,
        &Path::new("base.platform.d").join(&ctx.platform),
    )?);
    Ok(files)
}

fn layered(dirs: &[PathBuf], sub: &Path) -> Result<Vec<PathBuf>, PipelineError> {
    let mut by_name = BTreeMap::new();
    for dir in dirs {
        for (name, path) in configs_in(&dir.join(sub))? {
            by_name.entry(name).or_insert(path);
        }
    }
    Ok(by_name.into_values().collect())
}

/// `*.json` and `*.ign` files by name (Ignition's own base configs are `.ign`); anything else
/// is skipped with a warning rather than parsed.
fn configs_in(dir: &Path) -> Result<BTreeMap<OsString, PathBuf>, PipelineError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
        Err(source) => {
            return Err(PipelineError::BaseDir {
                dir: dir.display().to_string(),
                source,
            })
        }
    };
    let mut out = BTreeMap::new();
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "json" || e == "ign") {
            out.insert(entry.file_name(), path);
        } else {
            log::warn!(
                "ignoring {}: base configs are *.json or *.ign files",
                path.display()
            );
        }
    }
    Ok(out)
}

/// A base config: a file in the initramfs, or Flatcar's OEM base config (its bytes).
enum Base {
    File(PathBuf),
    Oem(Vec<u8>),
}

impl Base {
    fn name(&self) -> String {
        match self {
            Base::File(path) => path.display().to_string(),
            Base::Oem(_) => format!("oem:///{}", crate::flatcar::OEM_BASE_CONFIG),
        }
    }
}

/// On a Flatcar boot, the OEM partition's `base/base.ign`, which Flatcar's initramfs adds to
/// its base configs. Unlike the initramfs's own, it sits on a writable partition outside the
/// signed chain, so a policy that requires a verified config refuses it.
fn oem_base_config(ctx: &StageContext) -> Result<Option<Base>, PipelineError> {
    use crate::flatcar::{is_flatcar_boot, oem_wait, OEM_BASE_CONFIG};
    if !is_flatcar_boot(&ctx.cmdline) {
        return Ok(None);
    }
    let source = crate::fetch::oem::OemSource::from_process();
    let limit = ctx.policy.config_limit();
    let read = crate::fetch::oem::read_optional(
        &source,
        OEM_BASE_CONFIG,
        oem_wait(ctx.config_timeout),
        limit,
    );
    let bytes = match read {
        Ok(Some(bytes)) => bytes,
        Ok(None) => return Ok(None),
        Err(source) => {
            return Err(ChainError::Fetch {
                chain: format!("Flatcar's OEM base config oem:///{OEM_BASE_CONFIG}"),
                source,
            }
            .into())
        }
    };
    if ctx.policy.require != crate::verify::policy::Require::None {
        return Err(PipelineError::OemBaseRefused {
            require: ctx.policy.require.name(),
        });
    }
    log::info!("adding Flatcar's OEM base config oem:///{OEM_BASE_CONFIG} under the base configs");
    Ok(Some(Base::Oem(bytes)))
}

/// Merges the base configs in order into one config that the user config goes over.
fn base_config(
    bases: &[Base],
    network: Network,
    fetch: &FetchSettings,
    limit: u64,
    state: &mut State,
) -> Result<Config, PipelineError> {
    let mut config = Config::default();
    for base in bases {
        let name = base.name();
        let read;
        let bytes = match base {
            Base::File(path) => {
                read = match crate::bounded::read(path, limit) {
                    Ok(crate::bounded::Bounded::Whole(bytes)) => bytes,
                    Ok(crate::bounded::Bounded::Cut { .. }) => {
                        return Err(PipelineError::BaseTooLarge { name, limit })
                    }
                    Err(source) => return Err(PipelineError::BaseDir { dir: name, source }),
                };
                &read
            }
            Base::Oem(bytes) => bytes,
        };
        let mut chain = vec![name.clone()];
        let rendered = render::render(render::parse(bytes, &chain)?, &mut chain, network, fetch)?;
        state.fetched.extend(rendered.fetched);
        config = kindling_spec::merge::merge(&config, &rendered.config).map_err(|e| {
            ChainError::Invalid {
                chain: name.clone(),
                report: e.to_string(),
            }
        })?;
    }
    Ok(config)
}
