//! The kernel command line: `kindling.*` arguments, with Ignition's `ignition.*` names as
//! aliases so existing boot entries keep working.

use std::path::Path;

/// Arguments the engine refuses rather than guess at.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CmdlineError {
    #[error("{name} on the kernel command line is empty; remove it, or give {what}")]
    Empty { name: String, what: &'static str },
    #[error("{name} is given {count} times on the kernel command line ({keys}, counting its ignition.* alias); give it once: a later one must not replace or cancel an earlier one")]
    Repeated {
        name: String,
        count: usize,
        keys: String,
    },
}

/// Parsed kernel arguments, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cmdline {
    args: Vec<(String, Option<String>)>,
}

impl Cmdline {
    pub fn read(path: &Path) -> std::io::Result<Self> {
        Ok(Self::parse(&std::fs::read_to_string(path)?))
    }

    /// Splits on whitespace outside double quotes; quotes are removed, as the kernel does.
    pub fn parse(text: &str) -> Self {
        let mut args = Vec::new();
        let mut current = String::new();
        let mut quoted = false;
        let mut any = false;
        for c in text.chars() {
            match c {
                '"' => {
                    quoted = !quoted;
                    any = true;
                }
                c if c.is_whitespace() && !quoted => {
                    if any {
                        args.push(split(&current));
                        current.clear();
                        any = false;
                    }
                }
                c => {
                    current.push(c);
                    any = true;
                }
            }
        }
        if any {
            args.push(split(&current));
        }
        Self { args }
    }

    /// The last value of `kindling.<name>`, or else of `ignition.<name>`. For `config.url`,
    /// Flatcar's `flatcar.config.url` and `coreos.config.url` stand beside
    /// `ignition.config.url`, and the last of the three with a value wins, as in Flatcar's
    /// Ignition.
    pub fn value(&self, name: &str) -> Option<&str> {
        let kindling = self.last(&format!("kindling.{name}"));
        if name == "config.url" && kindling.is_none() {
            let names = ["ignition.config.url", FLATCAR_CONFIG_URL, COREOS_CONFIG_URL];
            return self
                .args
                .iter()
                .rev()
                .find(|(k, v)| v.is_some() && names.contains(&k.as_str()))
                .and_then(|(_, v)| v.as_deref());
        }
        kindling.or_else(|| self.last(&format!("ignition.{name}")))
    }

    /// The last value of exactly `key` (no `kindling.`/`ignition.` prefixing), and whether the
    /// key is present at all: `Some(None)` for a bare `key`.
    pub fn raw(&self, key: &str) -> Option<Option<&str>> {
        self.args
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_deref())
    }

    /// The root config's pin, `kindling.config.hash` (alias `ignition.config.hash`).
    pub fn config_pin(&self) -> Result<Option<&str>, CmdlineError> {
        self.single("config.hash", "the config's sha512-<hex>")
    }

    /// Where the root config's detached signature is, `kindling.config.sig` (alias
    /// `ignition.config.sig`).
    pub fn config_sig(&self) -> Result<Option<&str>, CmdlineError> {
        self.single("config.sig", "the URL of the config's detached signature")
    }

    /// The value of an argument that guards the config, where "the last one wins" would let a
    /// later argument cancel or replace an earlier one: `kindling.<name>` and
    /// `ignition.<name>` together may appear at most once, and then with a value.
    fn single(&self, name: &str, what: &'static str) -> Result<Option<&str>, CmdlineError> {
        let (k, i) = (format!("kindling.{name}"), format!("ignition.{name}"));
        let given: Vec<&(String, Option<String>)> = self
            .args
            .iter()
            .filter(|(key, _)| *key == k || *key == i)
            .collect();
        match given.as_slice() {
            [] => Ok(None),
            [(key, Some(v))] if !v.is_empty() => Ok(Some(v)),
            [(key, _)] => Err(CmdlineError::Empty {
                name: key.clone(),
                what,
            }),
            more => Err(CmdlineError::Repeated {
                name: k,
                count: more.len(),
                keys: more
                    .iter()
                    .map(|(key, _)| key.as_str())
                    .collect::<Vec<_>>()
                    .join(" "),
            }),
        }
    }

    /// Whether `kindling.<name>` or `ignition.<name>` is present (with or without a value).
    pub fn flag(&self, name: &str) -> bool {
        let (k, i) = (format!("kindling.{name}"), format!("ignition.{name}"));
        self.args.iter().any(|(key, _)| *key == k || *key == i)
    }

    fn last(&self, key: &str) -> Option<&str> {
        self.args
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .and_then(|(_, v)| v.as_deref())
    }
}

/// Flatcar's names for the config URL (see [`Cmdline::value`]).
pub const FLATCAR_CONFIG_URL: &str = "flatcar.config.url";
pub const COREOS_CONFIG_URL: &str = "coreos.config.url";

fn split(arg: &str) -> (String, Option<String>) {
    match arg.split_once('=') {
        Some((k, v)) => (k.to_owned(), Some(v.to_owned())),
        None => (arg.to_owned(), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kindling_names_win_over_ignition_aliases() {
        let c = Cmdline::parse(
            "ro ignition.config.url=http://a/ kindling.config.url=http://b/ quiet\n",
        );
        assert_eq!(c.value("config.url"), Some("http://b/"));
        let c = Cmdline::parse("ignition.firstboot ignition.platform.id=qemu");
        assert!(c.flag("firstboot"));
        assert_eq!(c.value("platform.id"), Some("qemu"));
        assert!(!Cmdline::parse("root=/dev/vda").flag("firstboot"));
    }

    #[test]
    fn quoted_values_keep_their_spaces() {
        let c = Cmdline::parse(r#"kindling.config.url="http://h/a b" x"#);
        assert_eq!(c.value("config.url"), Some("http://h/a b"));
    }

    /// Issue 15, defect 10: an empty pin later on the line cancelled an earlier one, and a
    /// second pin replaced the first.
    #[test]
    fn a_pin_or_signature_url_must_be_given_once_and_not_empty() {
        let pin = "sha512-00";
        assert_eq!(Cmdline::parse("quiet").config_pin(), Ok(None));
        assert_eq!(
            Cmdline::parse(&format!("ignition.config.hash={pin}")).config_pin(),
            Ok(Some(pin))
        );
        for line in [
            format!("kindling.config.hash={pin} kindling.config.hash="),
            format!("ignition.config.hash={pin} ignition.config.hash"),
            "kindling.config.hash=".to_owned(),
            r#"kindling.config.hash="""#.to_owned(),
        ] {
            let err = Cmdline::parse(&line).config_pin().expect_err(&line);
            assert!(
                matches!(
                    err,
                    CmdlineError::Empty { .. } | CmdlineError::Repeated { .. }
                ),
                "{line}"
            );
            assert!(err.to_string().contains("config.hash"), "{err}");
        }
        let err = Cmdline::parse("kindling.config.hash=")
            .config_pin()
            .expect_err("empty");
        assert_eq!(
            err.to_string(),
            "kindling.config.hash on the kernel command line is empty; remove it, or give the config's sha512-<hex>"
        );
        for line in [
            format!("kindling.config.hash={pin} kindling.config.hash={pin}"),
            format!("ignition.config.hash={pin} kindling.config.hash=sha512-11"),
        ] {
            let err = Cmdline::parse(&line).config_pin().expect_err(&line);
            assert!(
                matches!(err, CmdlineError::Repeated { count: 2, .. }),
                "{line}"
            );
            assert!(err.to_string().contains("given 2 times"), "{err}");
        }
        let c = Cmdline::parse("kindling.config.sig=http://h/a.asc ignition.config.sig=");
        assert!(matches!(c.config_sig(), Err(CmdlineError::Repeated { .. })));
        assert!(Cmdline::parse("kindling.config.sig=").config_sig().is_err());
    }

    #[test]
    fn flatcar_config_url_aliases_the_last_of_them_wins_and_kindling_wins_over_all() {
        let c = Cmdline::parse(
            "flatcar.config.url=http://f/ ignition.config.url=http://i/ coreos.config.url=http://c/",
        );
        assert_eq!(c.value("config.url"), Some("http://c/"));
        let c = Cmdline::parse("coreos.config.url=http://c/ flatcar.config.url=http://f/");
        assert_eq!(c.value("config.url"), Some("http://f/"));
        // A bare name has no URL and changes nothing; an empty value clears, as in Flatcar.
        let c = Cmdline::parse("flatcar.config.url=http://f/ coreos.config.url");
        assert_eq!(c.value("config.url"), Some("http://f/"));
        let c = Cmdline::parse("flatcar.config.url=http://f/ ignition.config.url=");
        assert_eq!(c.value("config.url"), Some(""));
        let c = Cmdline::parse("kindling.config.url=http://k/ flatcar.config.url=http://f/");
        assert_eq!(c.value("config.url"), Some("http://k/"));
        // Only the config URL has Flatcar aliases.
        assert_eq!(
            Cmdline::parse("flatcar.config.sig=x").value("config.sig"),
            None
        );
    }

    #[test]
    fn raw_tells_a_bare_key_from_an_absent_one() {
        let c = Cmdline::parse("flatcar.first_boot flatcar.oem.id=ec2");
        assert_eq!(c.raw("flatcar.first_boot"), Some(None));
        assert_eq!(c.raw("flatcar.oem.id"), Some(Some("ec2")));
        assert_eq!(c.raw("coreos.oem.id"), None);
    }

    #[test]
    fn the_last_repeat_wins() {
        let c = Cmdline::parse("kindling.platform.id=metal kindling.platform.id=qemu");
        assert_eq!(c.value("platform.id"), Some("qemu"));
    }
}
