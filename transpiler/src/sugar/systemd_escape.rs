//! `systemd-escape --path`, byte for byte as the Go library Butane uses does it (including
//! its one-digit `\xN` for bytes below 0x10).

/// Escapes a path for use in a unit name: slashes collapse and become `-`, the leading and
/// trailing ones go, a leading `.` and anything outside `[A-Za-z0-9:_.]` becomes `\xNN`.
pub fn path_escape(path: &str) -> String {
    let mut out = String::with_capacity(path.len() + 8);
    let mut in_slashes = false;
    let mut start = true;
    for &c in path.as_bytes() {
        if c == b'/' {
            in_slashes = true;
            continue;
        }
        if in_slashes {
            in_slashes = false;
            if !start {
                out.push('-');
            }
        }
        let allowed = c.is_ascii_alphanumeric() || matches!(c, b':' | b'_' | b'.');
        if !allowed || (start && c == b'.') {
            out.push_str(&format!("\\x{c:x}"));
        } else {
            out.push(char::from(c));
        }
        start = false;
    }
    if out.is_empty() {
        out.push('-');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::path_escape;

    #[test]
    fn escapes_as_systemd_escape_path() {
        assert_eq!(path_escape("/var"), "var");
        assert_eq!(
            path_escape("/dev/disk/by-partlabel/var"),
            "dev-disk-by\\x2dpartlabel-var"
        );
        assert_eq!(
            path_escape("/var/lib/static_key_example"),
            "var-lib-static_key_example"
        );
        assert_eq!(path_escape("//var//lib/"), "var-lib");
        assert_eq!(path_escape("/"), "-");
        assert_eq!(path_escape("/.hidden"), "\\x2ehidden");
        assert_eq!(path_escape("/srv/my data"), "srv-my\\x20data");
    }
}
