//! One wording for each problem that both `kindling validate` and `flint` report, so a user
//! meets the same sentence whichever tool found it.

/// An unknown key: a warning (an error under `--strict`), with the nearest valid field when
/// one is close enough to be a typo.
pub fn unused_key(key: &str, valid: &[&str]) -> String {
    match did_you_mean(key, valid) {
        Some(field) => {
            format!("unused key {key}: did you mean {field}? (remove it or fix its spelling)")
        }
        None => format!("unused key {key}: remove it or check its spelling"),
    }
}

/// A value of the wrong type. `found` names the kind and shows the value, as
/// `a string ("0644")`; a quoted number where a number belongs gets the hint to unquote it.
pub fn wrong_type(expected: &str, found_kind: &str, shown: Option<&str>) -> String {
    let mut msg = match shown {
        Some(v) => format!("wrong type: expected {expected}, found {found_kind} ({v})"),
        None => format!("wrong type: expected {expected}, found {found_kind}"),
    };
    let quoted_number = found_kind == "a string"
        && expected == "an integer"
        && shown.is_some_and(|v| {
            let inner = v.trim_matches('"');
            !inner.is_empty() && inner.chars().all(|c| c.is_ascii_digit())
        });
    if quoted_number {
        msg.push_str(": remove the quotes (a mode such as 0644 is a number: octal 0644 in Butane YAML, 420 in Ignition JSON)");
    }
    msg
}

/// The candidate `key` was most likely meant as: the closest field within a small edit
/// distance (a third of the key's length, at least 1, at most 3), or none.
pub fn did_you_mean<'a>(key: &str, valid: &[&'a str]) -> Option<&'a str> {
    let limit = (key.chars().count() / 3).clamp(1, 3);
    valid
        .iter()
        .map(|f| (edit_distance(&key.to_lowercase(), &f.to_lowercase()), *f))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, f)| (*d, *f))
        .map(|(_, f)| f)
}

/// Optimal string alignment distance: insertions, deletions, substitutions and swaps of two
/// neighbouring characters each cost one.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = v;
        }
    }
    d[a.len()][b.len()]
}

/// Said when JSON is expected and the input looks like YAML: most likely a Butane config.
pub fn looks_like_yaml(text: &str) -> Option<&'static str> {
    let first = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))?;
    let yamlish = first.starts_with("variant:")
        || first.starts_with("version:")
        || first.starts_with("---")
        || (first.contains(": ") || first.ends_with(':')) && !first.starts_with(['{', '[', '"']);
    yamlish.then_some(
        "this looks like YAML (a Butane config?): transpile it to an Ignition config first, e.g. `flint --strict config.bu > config.ign`",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_get_the_nearest_field() {
        let fields = [
            "path",
            "contents",
            "mode",
            "overwrite",
            "append",
            "user",
            "group",
        ];
        assert_eq!(did_you_mean("contnets", &fields), Some("contents"));
        assert_eq!(did_you_mean("pth", &fields), Some("path"));
        assert_eq!(did_you_mean("Mode", &fields), Some("mode"));
        assert_eq!(did_you_mean("owner", &fields), None);
        assert_eq!(
            unused_key("contnets", &fields),
            "unused key contnets: did you mean contents? (remove it or fix its spelling)"
        );
        assert_eq!(
            unused_key("owner", &fields),
            "unused key owner: remove it or check its spelling"
        );
    }

    #[test]
    fn quoted_modes_get_the_quote_hint() {
        let m = wrong_type("an integer", "a string", Some("\"0644\""));
        assert!(
            m.starts_with(
                "wrong type: expected an integer, found a string (\"0644\"): remove the quotes"
            ),
            "{m}"
        );
        assert!(!wrong_type("an integer", "a string", Some("\"rw\"")).contains("quotes"));
    }

    #[test]
    fn yaml_is_recognised() {
        assert!(looks_like_yaml("variant: fcos\nversion: 1.5.0\n").is_some());
        assert!(looks_like_yaml("# comment\nstorage:\n  files: []\n").is_some());
        assert!(looks_like_yaml("{\"ignition\": {}}").is_none());
        assert!(looks_like_yaml("").is_none());
    }
}
