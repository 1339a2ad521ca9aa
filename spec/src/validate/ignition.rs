//! The `ignition` section: config references, CA bundles and proxies.

use super::resource::{self, scheme_of, SourceRule};
use super::Ctx;
use crate::jp;
use crate::types::Ignition;

pub(crate) fn validate(ctx: &mut Ctx<'_>, ign: &Ignition) {
    for (i, r) in ign.config.merge.iter().enumerate() {
        resource::validate(
            ctx,
            r,
            &jp!("ignition", "config", "merge", i),
            SourceRule::Required,
        );
    }
    resource::validate(
        ctx,
        &ign.config.replace,
        &jp!("ignition", "config", "replace"),
        SourceRule::Optional,
    );
    for (field, value) in [
        ("httpProxy", &ign.proxy.http_proxy),
        ("httpsProxy", &ign.proxy.https_proxy),
    ] {
        let Some(url) = value.as_deref() else {
            continue;
        };
        let at = jp!("ignition", "proxy", field);
        match scheme_of(url) {
            Err(msg) => ctx.error(at, msg),
            Ok(s) if s == "http" && field == "httpsProxy" && url::Url::parse(url).is_ok() => ctx.warning(
                at,
                "insecure plaintext HTTP proxy specified for HTTPS resources: use an https proxy URL",
            ),
            Ok(s) if s == "http" || s == "https" => {
                if let Err(e) = url::Url::parse(url) {
                    ctx.error(at, format!("unable to parse url: {e}"));
                }
            }
            Ok(_) => ctx.error(at, format!("proxies must be http(s): {field} must start with http:// or https://")),
        }
    }
    for (i, r) in ign.security.tls.certificate_authorities.iter().enumerate() {
        let at = jp!("ignition", "security", "tls", "certificateAuthorities", i);
        resource::validate(ctx, r, &at, SourceRule::Required);
    }
}

#[cfg(test)]
mod tests {
    use crate::validate::test_support::*;

    #[test]
    fn proxies_must_be_http_or_https() {
        assert_error(
            r#"{"ignition":{"version":"3.1.0","proxy":{"httpProxy":"socks5://p:1"}}}"#,
            "$.ignition.proxy.httpProxy",
            "proxies must be http(s)",
        );
        assert_error(
            r#"{"ignition":{"version":"3.1.0","proxy":{"httpsProxy":""}}}"#,
            "$.ignition.proxy.httpsProxy",
            "proxies must be http(s)",
        );
        assert_warning(
            r#"{"ignition":{"version":"3.1.0","proxy":{"httpsProxy":"http://p:3128"}}}"#,
            "$.ignition.proxy.httpsProxy",
            "insecure plaintext HTTP proxy",
        );
        assert_clean(
            r#"{"ignition":{"version":"3.1.0","proxy":{"httpProxy":"http://p:3128","httpsProxy":"https://p","noProxy":["a"]}}}"#,
        );
    }
}
