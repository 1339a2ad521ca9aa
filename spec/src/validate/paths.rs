//! Absolute, simplified paths.

use super::Ctx;
use crate::path::JsonPath;

/// Ignition's path rule: set, absolute, and already in its simplest form.
pub(crate) fn check_path(ctx: &mut Ctx<'_>, path: &str, at: impl FnOnce() -> JsonPath) {
    if let Some(msg) = path_problem(path) {
        ctx.error(at(), msg);
    }
}

pub(crate) fn path_problem(path: &str) -> Option<String> {
    if path.is_empty() {
        Some("path not specified: set an absolute path such as /etc/example".to_owned())
    } else if !path.starts_with('/') {
        Some(format!("path not absolute: use /{path}"))
    } else if clean(path) != path {
        Some(format!("path is not fully simplified: use {}", clean(path)))
    } else {
        None
    }
}

/// Lexical simplification of an absolute path, as Go's `path.Clean` does it.
pub(crate) fn clean(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    format!("/{}", parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_matches_go_for_absolute_paths() {
        for (input, want) in [
            ("/", "/"),
            ("/a/", "/a"),
            ("//a", "/a"),
            ("/./a", "/a"),
            ("/a/../b", "/b"),
            ("/..", "/"),
            ("/a/b", "/a/b"),
        ] {
            assert_eq!(clean(input), want, "{input}");
        }
    }

    #[test]
    fn problems_are_named_with_a_fix() {
        assert!(path_problem("").is_some_and(|m| m.starts_with("path not specified")));
        assert_eq!(
            path_problem("etc/motd").as_deref(),
            Some("path not absolute: use /etc/motd")
        );
        assert_eq!(
            path_problem("/etc//motd").as_deref(),
            Some("path is not fully simplified: use /etc/motd")
        );
        assert_eq!(path_problem("/etc/motd"), None);
    }
}
