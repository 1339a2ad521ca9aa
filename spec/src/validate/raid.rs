//! Software RAID arrays.

use super::paths::path_problem;
use super::Ctx;
use crate::jp;
use crate::types::Raid;
use crate::version::SpecVersion;

const LEVELS: &str = "linear, raid0, raid1, raid4, raid5, raid6 or raid10";

pub(crate) fn validate(ctx: &mut Ctx<'_>, arrays: &[Raid]) {
    for (i, r) in arrays.iter().enumerate() {
        let at = jp!("storage", "raid", i);
        match r.level.as_deref().unwrap_or("") {
            "" if ctx.since(SpecVersion::V3_3) => {
                ctx.error(
                    at.key("level"),
                    format!("raid level is required: set level to {LEVELS}"),
                );
            }
            "linear" | "raid0" | "0" | "stripe" => {
                if r.spares.is_some_and(|s| s != 0) {
                    ctx.error(at.key("level"), "spares unsupported for linear and raid0 arrays: remove spares or use a redundant level");
                }
            }
            "raid1" | "1" | "mirror" | "raid4" | "4" | "raid5" | "5" | "raid6" | "6" | "raid10"
            | "10" => {}
            other => ctx.error(
                at.key("level"),
                format!("unrecognized raid level {other:?}: use {LEVELS}"),
            ),
        }
        if r.devices.is_empty() {
            ctx.error(
                at.key("devices"),
                "raid devices required: list the member devices",
            );
        }
        for (k, dev) in r.devices.iter().enumerate() {
            if let Some(msg) = path_problem(dev) {
                ctx.error(at.key("devices").index(k), msg);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::validate::test_support::*;

    fn raid(v: &str, body: &str) -> String {
        format!(r#"{{"ignition":{{"version":"{v}"}},"storage":{{"raid":[{body}]}}}}"#)
    }

    #[test]
    fn levels_are_checked() {
        assert_error(
            &raid("3.3.0", r#"{"name":"md","devices":["/dev/a"]}"#),
            "$.storage.raid.0.level",
            "raid level is required",
        );
        assert_error(
            &raid("3.2.0", r#"{"name":"md","devices":["/dev/a"]}"#),
            "$.storage.raid.0.level",
            "unrecognized raid level",
        );
        assert_error(
            &raid(
                "3.0.0",
                r#"{"name":"md","level":"raid7","devices":["/dev/a"]}"#,
            ),
            "$.storage.raid.0.level",
            "unrecognized raid level",
        );
        assert_error(
            &raid(
                "3.0.0",
                r#"{"name":"md","level":"raid0","spares":1,"devices":["/dev/a"]}"#,
            ),
            "$.storage.raid.0.level",
            "spares unsupported",
        );
        assert_clean(&raid(
            "3.0.0",
            r#"{"name":"md","level":"raid1","spares":1,"devices":["/dev/a","/dev/b"]}"#,
        ));
    }

    #[test]
    fn devices_are_required_and_absolute() {
        assert_error(
            &raid("3.0.0", r#"{"name":"md","level":"raid1"}"#),
            "$.storage.raid.0.devices",
            "raid devices required",
        );
        assert_error(
            &raid(
                "3.0.0",
                r#"{"name":"md","level":"raid1","devices":["sda"]}"#,
            ),
            "$.storage.raid.0.devices.0",
            "path not absolute",
        );
    }
}
