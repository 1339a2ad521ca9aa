//! systemd units and drop-ins.

use std::collections::HashMap;

use super::unit_file::{has_install_section, options};
use super::Ctx;
use crate::jp;
use crate::types::Systemd;

const UNIT_TYPES: [&str; 12] = [
    ".service",
    ".socket",
    ".device",
    ".mount",
    ".automount",
    ".swap",
    ".target",
    ".path",
    ".timer",
    ".snapshot",
    ".slice",
    ".scope",
];

/// Go's `path.Ext`: the suffix from the last dot of the last path element.
fn extension(name: &str) -> &str {
    let base = name.rsplit('/').next().unwrap_or(name);
    base.rfind('.').map_or("", |i| &base[i..])
}

/// Why `name` cannot be a file name in a directory: unit and drop-in names become paths
/// under /etc/systemd/system, so a `/` or a `..` would put the file elsewhere (issue 15,
/// defect 7: `../../cron.d/evil.service` landed in /etc/cron.d). Ignition 2.26 checks only
/// the suffix; systemd itself never accepts such names, so no working config is refused.
pub(crate) fn file_name_problem(name: &str) -> Option<&'static str> {
    if name.contains('/') {
        Some("it contains a /; a name is one file name, such as app.service, not a path")
    } else if name.contains('\0') {
        Some("it contains a NUL character")
    } else if name == "." || name == ".." {
        Some("it is . or .., which name directories, not files")
    } else {
        None
    }
}

pub(crate) fn validate(ctx: &mut Ctx<'_>, systemd: &Systemd) {
    for (i, unit) in systemd.units.iter().enumerate() {
        let at = jp!("systemd", "units", i);
        if let Some(problem) = file_name_problem(&unit.name) {
            ctx.error(
                at.key("name"),
                format!("invalid systemd unit name {:?}: {problem}", unit.name),
            );
        } else if !UNIT_TYPES.contains(&extension(&unit.name)) {
            ctx.error(
                at.key("name"),
                format!("invalid systemd unit extension: {:?} must end in a unit type such as .service, .socket, .timer, .mount or .target", unit.name),
            );
        }
        if let Some(contents) = unit.contents.as_deref() {
            match options(contents) {
                Err(e) => ctx.error(at.key("contents"), format!("invalid unit content: {e}")),
                Ok(opts) => {
                    if unit.enabled == Some(true)
                        && !contents.is_empty()
                        && !has_install_section(&opts)
                    {
                        ctx.warning(
                            at.key("contents"),
                            format!("unit {:?} is enabled, but has no install section so enable does nothing: add an [Install] section (e.g. WantedBy=multi-user.target)", unit.name),
                        );
                    }
                }
            }
        }
        for (k, d) in unit.dropins.iter().enumerate() {
            let at = at.key("dropins").index(k);
            if let Some(Err(e)) = d.contents.as_deref().map(options) {
                ctx.error(at.key("contents"), format!("invalid unit content: {e}"));
            }
            if let Some(problem) = file_name_problem(&d.name) {
                ctx.error(
                    at.key("name"),
                    format!("invalid systemd drop-in name {:?}: {problem}", d.name),
                );
            } else if extension(&d.name) != ".conf" {
                ctx.error(
                    at.key("name"),
                    format!(
                        "invalid systemd drop-in extension: {:?} must end in .conf",
                        d.name
                    ),
                );
            }
        }
    }
}

/// An enabled template instance (`foo@bar.service`) whose template has no `[Install]`.
pub(crate) fn template_install_sections(ctx: &mut Ctx<'_>, systemd: &Systemd) {
    let templates: HashMap<&str, &str> = systemd
        .units
        .iter()
        .filter_map(|u| {
            Some((
                u.name.as_str(),
                u.contents.as_deref().filter(|c| !c.is_empty())?,
            ))
        })
        .collect();
    for (i, unit) in systemd.units.iter().enumerate() {
        if unit.enabled != Some(true) {
            continue;
        }
        let Some(stem) = unit.name.strip_suffix(".service") else {
            continue;
        };
        let Some((prefix, instance)) = stem.split_once('@') else {
            continue;
        };
        if prefix.is_empty() || instance.is_empty() {
            continue;
        }
        let template = format!("{prefix}@.service");
        let Some(contents) = templates.get(template.as_str()) else {
            continue;
        };
        if let Ok(opts) = options(contents) {
            if !has_install_section(&opts) {
                ctx.warning(
                    jp!("systemd", "units", i, "contents"),
                    format!("template unit {template:?} for {:?} doesn't have Install section: add an [Install] section to the template", unit.name),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::validate::test_support::*;

    fn units(body: &str) -> String {
        format!(r#"{{"ignition":{{"version":"3.0.0"}},"systemd":{{"units":{body}}}}}"#)
    }

    #[test]
    fn unit_and_dropin_names_need_extensions() {
        assert_error(
            &units(r#"[{"name":"hello"}]"#),
            "$.systemd.units.0.name",
            "invalid systemd unit extension",
        );
        assert_error(
            &units(r#"[{"name":"a.SERVICE"}]"#),
            "$.systemd.units.0.name",
            "invalid systemd unit extension",
        );
        assert_error(
            &units(r#"[{"name":"a.service","dropins":[{"name":"x.txt"}]}]"#),
            "$.systemd.units.0.dropins.0.name",
            "invalid systemd drop-in extension",
        );
        assert_clean(&units(
            r#"[{"name":"a.timer"},{"name":"b.service","dropins":[{"name":"x.conf"}]}]"#,
        ));
    }

    /// Issue 15, defect 7: names that are paths would be written outside
    /// /etc/systemd/system.
    #[test]
    fn unit_and_dropin_names_are_single_file_names() {
        let refused = |json: &str, path: &str, start: &str, problem: &str| {
            let lines = check(json);
            let want = format!("E {path}: {start}");
            assert!(
                lines
                    .iter()
                    .any(|l| l.starts_with(&want) && l.contains(problem)),
                "expected `{want}` saying {problem:?}, got {lines:#?}"
            );
        };
        for (name, problem) in [
            ("../../cron.d/evil.service", "contains a /"),
            ("sub/a.service", "contains a /"),
            ("/etc/a.service", "contains a /"),
            ("a\\u0000.service", "NUL"),
        ] {
            refused(
                &units(&format!(r#"[{{"name":"{name}"}}]"#)),
                "$.systemd.units.0.name",
                "invalid systemd unit name",
                problem,
            );
            refused(
                &units(&format!(
                    r#"[{{"name":"a.service","dropins":[{{"name":"{}"}}]}}]"#,
                    name.replace(".service", ".conf")
                )),
                "$.systemd.units.0.dropins.0.name",
                "invalid systemd drop-in name",
                problem,
            );
        }
        for dots in [".", ".."] {
            refused(
                &units(&format!(
                    r#"[{{"name":"a.service","dropins":[{{"name":"{dots}"}}]}}]"#
                )),
                "$.systemd.units.0.dropins.0.name",
                "invalid systemd drop-in name",
                "is . or ..",
            );
        }
        assert_clean(&units(
            r#"[{"name":"..service"},{"name":"a@b.service","dropins":[{"name":"..conf"}]}]"#,
        ));
    }

    #[test]
    fn contents_must_parse() {
        assert_error(
            &units(r#"[{"name":"a.service","contents":"[Unit"}]"#),
            "$.systemd.units.0.contents",
            "invalid unit content",
        );
    }

    #[test]
    fn enabled_units_without_install_warn() {
        assert_warning(
            &units(
                r#"[{"name":"a.service","enabled":true,"contents":"[Service]\nExecStart=/bin/true\n"}]"#,
            ),
            "$.systemd.units.0.contents",
            "unit \"a.service\" is enabled, but has no install section",
        );
        assert_clean(&units(
            r#"[{"name":"a.service","enabled":true,"contents":"[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n"}]"#,
        ));
        assert_warning(
            &units(
                r#"[{"name":"t@.service","contents":"[Service]\nExecStart=/bin/true\n"},{"name":"t@x.service","enabled":true}]"#,
            ),
            "$.systemd.units.1.contents",
            "template unit \"t@.service\"",
        );
    }
}
