//! The mount table of this process's namespace (`/proc/self/mountinfo`), read one way for
//! every stage and provider that needs to know what is mounted.

use std::path::{Path, PathBuf};

const MOUNTINFO: &str = "/proc/self/mountinfo";

/// Every mount point, octal escapes undone; `None` when the table cannot be read.
pub fn mount_points() -> Option<Vec<PathBuf>> {
    let text = std::fs::read_to_string(MOUNTINFO).ok()?;
    Some(parse(&text))
}

/// Whether `dir` is a mount point; `None` when the table cannot be read.
pub fn is_mount_point(dir: &Path) -> Option<bool> {
    mount_points().map(|points| points.iter().any(|p| p == dir))
}

/// The mount points of a mountinfo text (field 5 of each line).
fn parse(text: &str) -> Vec<PathBuf> {
    text.lines()
        .filter_map(|l| l.split(' ').nth(4))
        .map(|p| PathBuf::from(unescape(p)))
        .collect()
}

/// mountinfo writes space, tab, newline and backslash in paths as `\ooo`.
fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let octal = b
            .get(i + 1..i + 4)
            .filter(|d| d.iter().all(|c| (b'0'..=b'7').contains(c)));
        if let (b'\\', Some(d)) = (b[i], octal) {
            out.push(
                d.iter()
                    .fold(0u8, |v, c| v.wrapping_mul(8).wrapping_add(c - b'0')),
            );
            i += 4;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_are_undone() {
        assert_eq!(unescape(r"/run/a\040b"), "/run/a b");
        assert_eq!(unescape(r"/run/plain"), "/run/plain");
        assert_eq!(unescape(r"/x\1"), r"/x\1");
    }

    #[test]
    fn the_fifth_field_is_the_mount_point() {
        let text = "36 35 98:0 /mnt1 /mnt\\0402 rw,noatime master:1 - ext3 /dev/root rw\n\
                    22 1 0:21 / /proc rw - proc proc rw\n";
        assert_eq!(
            parse(text),
            [PathBuf::from("/mnt 2"), PathBuf::from("/proc")]
        );
    }

    #[test]
    fn the_root_is_a_mount_point_here() {
        assert_eq!(is_mount_point(Path::new("/")), Some(true));
    }
}
