//! The kernel command line: `kindling.*` arguments, with Ignition's `ignition.*` names as
//! aliases so existing boot entries keep working.

use std::path::Path;

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

    #[test]
    fn the_last_repeat_wins() {
        let c = Cmdline::parse("kindling.platform.id=metal kindling.platform.id=qemu");
        assert_eq!(c.value("platform.id"), Some("qemu"));
    }
}
