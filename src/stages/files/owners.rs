//! Owners by name, looked up in the target's `/etc/passwd` and `/etc/group`, never the
//! host's. The files are read through the root (links in them resolve inside it) and read
//! again whenever the users and groups step has changed them.

use kindling_spec::types::{NodeGroup, NodeUser};

use super::root::{Root, RootError};

#[derive(Debug, thiserror::Error)]
pub enum OwnerError {
    #[error("no user named {name:?} in the target's /etc/passwd (owner of {path}); create it under passwd.users or use user.id")]
    NoUser { name: String, path: String },
    #[error("no group named {name:?} in the target's /etc/group (group of {path}); create it under passwd.groups or use group.id")]
    NoGroup { name: String, path: String },
    #[error("{what} id {id} of {path} is out of range: ids go from 0 to 4294967294 (4294967295 would leave the owner unchanged)")]
    BadId {
        what: &'static str,
        id: i64,
        path: String,
    },
    #[error(transparent)]
    Root(#[from] RootError),
}

/// One `/etc/passwd` entry (the fields Kindling needs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    pub home: String,
}

/// The target's user and group databases.
#[derive(Debug, Default)]
pub struct Owners {
    users: Vec<Account>,
    groups: Vec<(String, u32)>,
}

impl Owners {
    pub fn load(root: &Root) -> Result<Self, RootError> {
        let passwd = root.read("/etc/passwd")?.unwrap_or_default();
        let group = root.read("/etc/group")?.unwrap_or_default();
        Ok(Self {
            users: String::from_utf8_lossy(&passwd)
                .lines()
                .filter_map(parse_passwd)
                .collect(),
            groups: String::from_utf8_lossy(&group)
                .lines()
                .filter_map(parse_group)
                .collect(),
        })
    }

    /// The first entry with this name, as getpwnam(3) finds it.
    pub fn user(&self, name: &str) -> Option<&Account> {
        self.users.iter().find(|u| u.name == name)
    }

    pub fn group(&self, name: &str) -> Option<u32> {
        self.groups.iter().find(|(n, _)| n == name).map(|(_, g)| *g)
    }

    /// A node's owner as Ignition resolves it: the id if set, else the name if non-empty,
    /// else the default.
    pub fn resolve(
        &self,
        user: &NodeUser,
        group: &NodeGroup,
        default: (u32, u32),
        path: &str,
    ) -> Result<(u32, u32), OwnerError> {
        let uid = match (user.id, user.name.as_deref()) {
            (Some(id), _) => id_of("user", id, path)?,
            (None, Some(name)) if !name.is_empty() => {
                self.user(name)
                    .ok_or_else(|| OwnerError::NoUser {
                        name: name.to_owned(),
                        path: path.to_owned(),
                    })?
                    .uid
            }
            _ => default.0,
        };
        let gid = match (group.id, group.name.as_deref()) {
            (Some(id), _) => id_of("group", id, path)?,
            (None, Some(name)) if !name.is_empty() => {
                self.group(name).ok_or_else(|| OwnerError::NoGroup {
                    name: name.to_owned(),
                    path: path.to_owned(),
                })?
            }
            _ => default.1,
        };
        Ok((uid, gid))
    }
}

/// An id from the config. Validation refuses the same ones; a config.json that skipped it
/// must not reach fchown with (uid_t) -1, which means "unchanged".
fn id_of(what: &'static str, id: i64, path: &str) -> Result<u32, OwnerError> {
    u32::try_from(id)
        .ok()
        .filter(|&id| id != u32::MAX)
        .ok_or_else(|| OwnerError::BadId {
            what,
            id,
            path: path.to_owned(),
        })
}

fn parse_passwd(line: &str) -> Option<Account> {
    let f: Vec<&str> = line.split(':').collect();
    if f.len() < 7 || f[0].is_empty() || f[0].starts_with('#') {
        return None;
    }
    Some(Account {
        name: f[0].to_owned(),
        uid: f[2].parse().ok()?,
        gid: f[3].parse().ok()?,
        home: f[5].to_owned(),
    })
}

fn parse_group(line: &str) -> Option<(String, u32)> {
    let f: Vec<&str> = line.split(':').collect();
    if f.len() < 3 || f[0].is_empty() || f[0].starts_with('#') {
        return None;
    }
    Some((f[0].to_owned(), f[2].parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owners() -> Owners {
        Owners {
            users: [
                "root:x:0:0:root:/root:/bin/sh",
                "core:x:1000:1000::/home/core:/bin/bash",
            ]
            .iter()
            .filter_map(|l| parse_passwd(l))
            .collect(),
            groups: ["root:x:0:", "wheel:x:10:core"]
                .iter()
                .filter_map(|l| parse_group(l))
                .collect(),
        }
    }

    // Issue 15, item 8: 4294967295 reached fchown as -1, "leave the owner unchanged".
    #[test]
    fn the_id_that_means_unchanged_is_refused() {
        let o = owners();
        let none = NodeGroup::default();
        for id in [4_294_967_295, -1, 4_294_967_296] {
            let user = NodeUser {
                id: Some(id),
                name: None,
            };
            let err = o.resolve(&user, &none, (0, 0), "/f").expect_err("refused");
            assert!(
                err.to_string()
                    .starts_with(&format!("user id {id} of /f is out of range")),
                "{err}"
            );
        }
        let user = NodeUser {
            id: Some(4_294_967_294),
            name: None,
        };
        assert_eq!(
            o.resolve(&user, &none, (0, 0), "/f").expect("ok"),
            (4_294_967_294, 0)
        );
    }

    #[test]
    fn ids_win_over_names_and_empty_names_mean_default() {
        let o = owners();
        let user = NodeUser {
            id: Some(5),
            name: Some("nobody-here".into()),
        };
        let group = NodeGroup {
            id: None,
            name: Some(String::new()),
        };
        assert_eq!(o.resolve(&user, &group, (7, 8), "/f").expect("ok"), (5, 8));
    }

    #[test]
    fn names_resolve_against_the_target() {
        let o = owners();
        let user = NodeUser {
            id: None,
            name: Some("core".into()),
        };
        let group = NodeGroup {
            id: None,
            name: Some("wheel".into()),
        };
        assert_eq!(
            o.resolve(&user, &group, (0, 0), "/f").expect("ok"),
            (1000, 10)
        );
        assert_eq!(o.user("core").map(|a| a.home.as_str()), Some("/home/core"));
    }

    #[test]
    fn unknown_names_are_errors_that_name_the_file() {
        let o = owners();
        let user = NodeUser {
            id: None,
            name: Some("ghost".into()),
        };
        let err = o
            .resolve(&user, &NodeGroup::default(), (0, 0), "/etc/x")
            .expect_err("unknown");
        assert!(err.to_string().contains("\"ghost\""), "{err}");
        assert!(err.to_string().contains("/etc/x"), "{err}");
    }
}
