//! LUKS volumes and their Clevis and CEX bindings.

use super::paths::path_problem;
use super::resource::{check_url, scheme_of, validate as validate_resource, SourceRule};
use super::Ctx;
use crate::jp;
use crate::path::JsonPath;
use crate::types::{Clevis, Luks};
use crate::version::SpecVersion;

pub(crate) fn validate(ctx: &mut Ctx<'_>, volumes: &[Luks]) {
    for (i, l) in volumes.iter().enumerate() {
        let at = jp!("storage", "luks", i);
        check_volume(ctx, l, &at);
        check_clevis(ctx, &l.clevis, &at.key("clevis"));
        validate_resource(ctx, &l.key_file, &at.key("keyFile"), SourceRule::Optional);
    }
}

fn clevis_present(c: &Clevis) -> bool {
    c.custom.pin.as_deref().is_some_and(|p| !p.is_empty())
        || !c.tang.is_empty()
        || c.tpm2 == Some(true)
        || c.threshold.is_some_and(|t| t != 0)
}

fn check_volume(ctx: &mut Ctx<'_>, l: &Luks, at: &JsonPath) {
    if l.name.contains('/') {
        ctx.error(
            at.key("name"),
            "device names cannot contain slashes: the volume opens as /dev/mapper/<name>",
        );
    }
    if let Some(label) = l.label.as_deref().filter(|s| s.len() > 47) {
        ctx.error(
            at.key("label"),
            format!(
                "luks device labels cannot be longer than 47 characters: this one has {} bytes",
                label.len()
            ),
        );
    }
    match l.device.as_deref().unwrap_or("") {
        "" => ctx.error(
            at.key("device"),
            "disk device is required: set device to the path of the volume to encrypt",
        ),
        dev => {
            if let Some(msg) = path_problem(dev) {
                ctx.error(at.key("device"), msg);
            }
        }
    }
    let c = &l.clevis;
    let others = !c.tang.is_empty() || c.tpm2 == Some(true) || c.threshold.is_some_and(|t| t != 0);
    if c.custom.pin.as_deref().is_some_and(|p| !p.is_empty()) && others {
        ctx.error(at.key("clevis"), "cannot use custom clevis config with tpm2, tang, or threshold: keep either custom or the others");
    }
    if let Some(src) = l.key_file.source.as_deref().filter(|s| !s.is_empty()) {
        if check_url(ctx.version, src).is_err() {
            ctx.error(
                at.key("keyFile"),
                "invalid key-file source: see the error on keyFile.source",
            );
        }
    }
    if ctx.since(SpecVersion::V3_5) && l.cex.enabled == Some(true) {
        if clevis_present(c) {
            ctx.error(
                at.key("cex"),
                "cannot use cex with clevis: remove one of them",
            );
        }
        if l.key_file.source.as_deref().is_some_and(|s| !s.is_empty()) {
            ctx.error(
                at.key("cex"),
                "cannot use key file with cex: CEX volumes use a secure key; remove keyFile",
            );
        }
    }
}

fn check_clevis(ctx: &mut Ctx<'_>, c: &Clevis, at: &JsonPath) {
    let custom = &c.custom;
    let pin = custom.pin.as_deref().unwrap_or("");
    let config = custom.config.as_deref().unwrap_or("");
    if !(pin.is_empty() && config.is_empty() && custom.needs_network != Some(true)) {
        let at = at.key("custom");
        if pin.is_empty() {
            ctx.error(
                at.key("pin"),
                "missing required custom clevis pin: set pin (tpm2, tang or sss)",
            );
        } else if !ctx.since(SpecVersion::V3_6) && !["tpm2", "tang", "sss"].contains(&pin) {
            ctx.error(
                at.key("pin"),
                format!("unsupported clevis pin {pin:?}: use tpm2, tang or sss"),
            );
        }
        if config.is_empty() {
            ctx.error(
                at.key("config"),
                "missing required custom clevis config: set config to the pin's JSON configuration",
            );
        }
    }
    for (k, t) in c.tang.iter().enumerate() {
        let at = at.key("tang").index(k);
        match scheme_of(&t.url) {
            Err(msg) => ctx.error(at.key("url"), msg),
            Ok(s) if s == "http" || s == "https" => {
                if let Err(msg) = check_url(ctx.version, &t.url) {
                    ctx.error(at.key("url"), msg);
                }
            }
            Ok(_) => ctx.error(
                at.key("url"),
                "invalid url scheme: a Tang server URL must be http or https",
            ),
        }
        if t.thumbprint.as_deref().unwrap_or("").is_empty() {
            ctx.error(at.key("thumbprint"), "thumbprint is required: set the thumbprint of the Tang server's signing key (tang-show-keys)");
        }
        if let Some(adv) = t.advertisement.as_deref().filter(|a| !a.is_empty()) {
            if serde_json::from_str::<serde_json::Value>(adv).is_err() {
                ctx.error(at.key("advertisement"), "advertisement is not valid JSON: paste the server's /adv response as a JSON string");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::validate::test_support::*;

    fn luks(v: &str, body: &str) -> String {
        format!(r#"{{"ignition":{{"version":"{v}"}},"storage":{{"luks":[{body}]}}}}"#)
    }

    #[test]
    fn volumes_need_a_device_and_a_plain_name() {
        assert_error(
            &luks("3.2.0", r#"{"name":"data"}"#),
            "$.storage.luks.0.device",
            "disk device is required",
        );
        assert_error(
            &luks("3.2.0", r#"{"name":"a/b","device":"/dev/vdb"}"#),
            "$.storage.luks.0.name",
            "device names cannot contain slashes",
        );
        assert_clean(&luks("3.2.0", r#"{"name":"data","device":"/dev/vdb"}"#));
    }

    #[test]
    fn custom_clevis_excludes_the_others() {
        assert_error(
            &luks(
                "3.3.0",
                r#"{"name":"d","device":"/dev/vdb","clevis":{"tpm2":true,"custom":{"pin":"tpm2","config":"{}"}}}"#,
            ),
            "$.storage.luks.0.clevis",
            "cannot use custom clevis config",
        );
        assert_error(
            &luks(
                "3.3.0",
                r#"{"name":"d","device":"/dev/vdb","clevis":{"custom":{"needsNetwork":true}}}"#,
            ),
            "$.storage.luks.0.clevis.custom.pin",
            "missing required custom clevis pin",
        );
        assert_error(
            &luks(
                "3.5.0",
                r#"{"name":"d","device":"/dev/vdb","clevis":{"custom":{"pin":"yubikey","config":"{}"}}}"#,
            ),
            "$.storage.luks.0.clevis.custom.pin",
            "unsupported clevis pin",
        );
        assert_clean(&luks(
            "3.6.0",
            r#"{"name":"d","device":"/dev/vdb","clevis":{"custom":{"pin":"yubikey","config":"{}"}}}"#,
        ));
    }

    #[test]
    fn tang_servers_need_http_and_a_thumbprint() {
        assert_error(
            &luks(
                "3.2.0",
                r#"{"name":"d","device":"/dev/vdb","clevis":{"tang":[{"url":"tftp://t","thumbprint":"x"}]}}"#,
            ),
            "$.storage.luks.0.clevis.tang.0.url",
            "invalid url scheme",
        );
        assert_error(
            &luks(
                "3.2.0",
                r#"{"name":"d","device":"/dev/vdb","clevis":{"tang":[{"url":"http://t"}]}}"#,
            ),
            "$.storage.luks.0.clevis.tang.0.thumbprint",
            "thumbprint is required",
        );
        assert_error(
            &luks(
                "3.4.0",
                r#"{"name":"d","device":"/dev/vdb","clevis":{"tang":[{"url":"http://t","thumbprint":"x","advertisement":"{"}]}}"#,
            ),
            "$.storage.luks.0.clevis.tang.0.advertisement",
            "advertisement is not valid JSON",
        );
    }

    #[test]
    fn cex_excludes_clevis_and_key_files() {
        assert_error(
            &luks(
                "3.5.0",
                r#"{"name":"d","device":"/dev/vdb","cex":{"enabled":true},"clevis":{"tpm2":true}}"#,
            ),
            "$.storage.luks.0.cex",
            "cannot use cex with clevis",
        );
        assert_error(
            &luks(
                "3.5.0",
                r#"{"name":"d","device":"/dev/vdb","cex":{"enabled":true},"keyFile":{"source":"data:,k"}}"#,
            ),
            "$.storage.luks.0.cex",
            "cannot use key file with cex",
        );
    }

    #[test]
    fn bad_key_file_sources_are_reported_twice() {
        let c = luks(
            "3.2.0",
            r#"{"name":"d","device":"/dev/vdb","keyFile":{"source":"ftp://x/k"}}"#,
        );
        assert_error(&c, "$.storage.luks.0.keyFile", "invalid key-file source");
        assert_error(&c, "$.storage.luks.0.keyFile.source", "invalid url scheme");
    }
}
