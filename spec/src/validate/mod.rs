//! Ignition's validation rules, applied to the 3.6.0 model with the source version in mind.
//!
//! The order of entries follows Ignition's: cross-section rules, then each section in field
//! order, then duplicates. (Unused keys are added by the caller, last.) Each message starts
//! with Ignition's own wording, so searches for it keep working, and then says how to fix it.

mod dups;
mod filesystems;
mod ids;
mod ignition;
mod luks;
mod nodes;
mod partitions;
pub(crate) mod paths;
mod raid;
pub(crate) mod resource;
mod systemd;
mod unit_file;

use crate::path::JsonPath;
use crate::report::Report;
use crate::types::Config;
use crate::version::SpecVersion;

pub(crate) struct Ctx<'r> {
    pub version: SpecVersion,
    /// The config is a spec 1 or 2.x config translated to 3.x: Flatcar's `oem://` sources
    /// are allowed, as Flatcar's Ignition allows them there.
    pub translated: bool,
    report: &'r mut Report,
}

impl Ctx<'_> {
    pub fn error(&mut self, path: JsonPath, message: impl Into<String>) {
        self.report.error(path, message);
    }

    pub fn warning(&mut self, path: JsonPath, message: impl Into<String>) {
        self.report.warning(path, message);
    }

    pub fn since(&self, version: SpecVersion) -> bool {
        self.version >= version
    }
}

pub(crate) fn validate(version: SpecVersion, config: &Config, report: &mut Report) {
    run(
        Ctx {
            version,
            translated: false,
            report,
        },
        config,
    );
}

/// [`validate`] for a spec 1 or 2.x config translated to `version`.
pub(crate) fn validate_translated(version: SpecVersion, config: &Config, report: &mut Report) {
    run(
        Ctx {
            version,
            translated: true,
            report,
        },
        config,
    );
}

fn run(mut ctx: Ctx<'_>, config: &Config) {
    nodes::systemd_conflicts(&mut ctx, config);
    systemd::template_install_sections(&mut ctx, &config.systemd);
    ignition::validate(&mut ctx, &config.ignition);
    ids::passwd(&mut ctx, &config.passwd);
    nodes::validate(&mut ctx, &config.storage);
    partitions::validate(&mut ctx, &config.storage.disks);
    filesystems::validate(&mut ctx, &config.storage);
    luks::validate(&mut ctx, &config.storage.luks);
    raid::validate(&mut ctx, &config.storage.raid);
    systemd::validate(&mut ctx, &config.systemd);
    dups::validate(&mut ctx, config);
}

#[cfg(test)]
pub(crate) mod test_support {
    use crate::report::Kind;

    /// Parses a config and returns `kind path: message` lines, for compact assertions.
    pub fn check(json: &str) -> Vec<String> {
        let report = match crate::parse(json.as_bytes(), crate::Options::default()) {
            Ok(p) => p.report,
            Err(r) => r,
        };
        report
            .entries
            .iter()
            .map(|e| {
                let kind = if e.kind == Kind::Error { "E" } else { "W" };
                format!("{kind} {}: {}", e.path, e.message)
            })
            .collect()
    }

    /// Asserts exactly one error at `path` whose message starts with `msg`.
    #[track_caller]
    pub fn assert_error(json: &str, path: &str, msg: &str) {
        let lines = check(json);
        let want = format!("E {path}: {msg}");
        assert!(
            lines.iter().any(|l| l.starts_with(&want)),
            "expected `{want}`, got {lines:#?}"
        );
    }

    #[track_caller]
    pub fn assert_warning(json: &str, path: &str, msg: &str) {
        let lines = check(json);
        let want = format!("W {path}: {msg}");
        assert!(
            lines.iter().any(|l| l.starts_with(&want)),
            "expected `{want}`, got {lines:#?}"
        );
    }

    #[track_caller]
    pub fn assert_clean(json: &str) {
        let lines = check(json);
        assert!(lines.is_empty(), "expected no findings, got {lines:#?}");
    }
}
