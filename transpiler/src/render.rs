//! How findings are shown: rustc-style snippets (the default), or Butane's raw one-line form.

use std::fmt::Write;

use crate::report::{Entry, Kind};

const RED: &str = "\x1b[1;31m";
const YELLOW: &str = "\x1b[1;33m";
const CYAN: &str = "\x1b[1;36m";
const BLUE: &str = "\x1b[1;34m";
const BOLD: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";

/// `error at $.path, line L col C: message`, one per line.
pub fn raw(entries: &[Entry]) -> String {
    let mut out = String::new();
    for e in entries {
        let _ = writeln!(out, "{e}");
    }
    out
}

/// One snippet per entry: the kind, the YAML path and the message, then `--> file:line:col`
/// and the source line with a caret under the offending value.
pub fn pretty(entries: &[Entry], file: &str, source: &str, color: bool) -> String {
    let lines: Vec<&str> = source.split('\n').collect();
    let paint = |code: &str, text: &str| {
        if color {
            format!("{code}{text}{RESET}")
        } else {
            text.to_owned()
        }
    };
    let mut out = String::new();
    for e in entries {
        let (code, word) = match e.kind {
            Kind::Error => (RED, "error"),
            Kind::Warning => (YELLOW, "warning"),
            Kind::Info => (CYAN, "info"),
        };
        let _ = writeln!(
            out,
            "{}{}",
            paint(code, &format!("{word}[{}]", e.path)),
            paint(BOLD, &format!(": {}", e.message))
        );
        let Some(pos) = e.pos else {
            let _ = writeln!(out, "  {} {file}\n", paint(BLUE, "-->"));
            continue;
        };
        let line_no = pos.line as usize;
        let gutter = line_no.to_string().len();
        let pad = " ".repeat(gutter);
        let _ = writeln!(
            out,
            "{pad}{} {file}:{}:{}",
            paint(BLUE, "-->"),
            pos.line,
            pos.col
        );
        let Some(line) = line_no.checked_sub(1).and_then(|i| lines.get(i)) else {
            out.push('\n');
            continue;
        };
        let line = line.strip_suffix('\r').unwrap_or(line);
        let _ = writeln!(out, "{pad} {}", paint(BLUE, "|"));
        let _ = writeln!(out, "{} {line}", paint(BLUE, &format!("{line_no} |")));
        let col = (pos.col as usize).saturating_sub(1);
        let indent: String = line
            .chars()
            .take(col)
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        let width = line
            .chars()
            .skip(col)
            .take_while(|c| !c.is_whitespace())
            .count()
            .max(1);
        let _ = writeln!(
            out,
            "{pad} {} {indent}{}\n",
            paint(BLUE, "|"),
            paint(code, &"^".repeat(width))
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::Pos;
    use kindling_spec::path::JsonPath;

    fn entry() -> Entry {
        Entry {
            kind: Kind::Warning,
            path: JsonPath::parse("$.storage.files.0.mode"),
            pos: Some(Pos { line: 2, col: 9 }),
            message: "unreasonable mode".to_owned(),
        }
    }

    #[test]
    fn raw_form_is_butanes() {
        assert_eq!(
            raw(&[entry()]),
            "warning at $.storage.files.0.mode, line 2 col 9: unreasonable mode\n"
        );
    }

    #[test]
    fn pretty_form_points_at_the_value() {
        let text = pretty(&[entry()], "c.bu", "files:\n  mode: 644\n", false);
        assert_eq!(
            text,
            "warning[$.storage.files.0.mode]: unreasonable mode\n --> c.bu:2:9\n  |\n2 |   mode: 644\n  |         ^^^\n\n"
        );
        assert!(!text.contains('\x1b'));
        assert!(pretty(&[entry()], "c.bu", "files:\n  mode: 644\n", true).contains('\x1b'));
    }
}
