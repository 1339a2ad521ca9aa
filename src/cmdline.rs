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

    /// The last value of `kindling.<name>`, or else of `ignition.<name>`.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.last(&format!("kindling.{name}"))
            .or_else(|| self.last(&format!("ignition.{name}")))
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
    fn the_last_repeat_wins() {
        let c = Cmdline::parse("kindling.platform.id=metal kindling.platform.id=qemu");
        assert_eq!(c.value("platform.id"), Some("qemu"));
    }
}
