//! Just enough of a systemd unit-file reader to judge a unit as Ignition does: whether it
//! parses, and which sections hold options.

/// The `(section, option name)` pairs of a unit, or why it does not parse.
pub(crate) fn options(contents: &str) -> Result<Vec<(String, String)>, String> {
    const MAX_LINE: usize = 2048;
    if contents.lines().any(|l| l.len() > MAX_LINE) {
        return Err(format!("line too long (max {MAX_LINE} bytes)"));
    }
    let mut out = Vec::new();
    let mut section: Option<String> = None;
    let mut rest = contents;
    while let Some(c) = rest.chars().next() {
        if c == '#' || c == ';' {
            rest = skip_comment(rest);
            continue;
        }
        if c == '[' {
            let Some(end) = rest.find(']') else {
                return Err("unable to find end of section".to_owned());
            };
            let name = rest[1..end].to_owned();
            let after = &rest[end + 1..];
            let (line, next) = after.split_once('\n').unwrap_or((after, ""));
            let garbage = line.trim_end_matches('\r').trim();
            if !garbage.is_empty() {
                return Err(format!(
                    "found garbage after section name {name:?}: {garbage:?}"
                ));
            }
            section = Some(name);
            rest = next;
            continue;
        }
        let Some(current) = &section else {
            rest = &rest[c.len_utf8()..];
            continue;
        };
        if c.is_whitespace() {
            rest = &rest[c.len_utf8()..];
            continue;
        }
        let Some(eq) = rest.find(['=', '\n', '\r']) else {
            return Err("EOF: an option line has no '='".to_owned());
        };
        if rest.as_bytes()[eq] != b'=' {
            return Err("unexpected newline encountered while parsing option name".to_owned());
        }
        out.push((current.clone(), rest[..eq].trim().to_owned()));
        rest = skip_value(&rest[eq + 1..]);
    }
    Ok(out)
}

/// Skips a comment line, and the lines it continues onto with a trailing backslash.
fn skip_comment(mut rest: &str) -> &str {
    loop {
        let (line, next) = rest.split_once('\n').unwrap_or((rest, ""));
        rest = next;
        if !line.trim_end().ends_with('\\') || rest.is_empty() {
            return rest;
        }
    }
}

/// Skips an option value, including continuation lines; a blank line ends a continuation.
fn skip_value(mut rest: &str) -> &str {
    loop {
        let (line, next) = rest.split_once('\n').unwrap_or((rest, ""));
        rest = next;
        if !line.trim_end().ends_with('\\')
            || rest.trim_start_matches([' ', '\t']).starts_with('\n')
        {
            return rest;
        }
    }
}

pub(crate) fn has_install_section(options: &[(String, String)]) -> bool {
    options.iter().any(|(section, _)| section == "Install")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_sections_and_options() {
        let opts = options(
            "# c\n[Unit]\nDescription=x \\\n  more\n\n[Install]\nWantedBy=multi-user.target\n",
        )
        .expect("parses");
        assert_eq!(opts.len(), 2);
        assert!(has_install_section(&opts));
    }

    #[test]
    fn empty_install_section_has_no_options() {
        let opts = options("[Service]\nExecStart=/bin/true\n[Install]\n").expect("parses");
        assert!(!has_install_section(&opts));
    }

    #[test]
    fn malformed_units_are_refused() {
        assert!(options("[Unit").unwrap_err().contains("end of section"));
        assert!(options("[Unit] x\n").unwrap_err().contains("garbage"));
        assert!(options("[Unit]\nfoo\nbar=1")
            .unwrap_err()
            .contains("newline"));
        assert!(options("[Unit]\nfoo").unwrap_err().contains("EOF"));
        assert!(options(&format!("[Unit]\nA={}", "x".repeat(3000)))
            .unwrap_err()
            .contains("too long"));
        assert!(options("foo=bar")
            .expect("text before a section is ignored")
            .is_empty());
    }
}
