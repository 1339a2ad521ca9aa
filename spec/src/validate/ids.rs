//! User and group ids: what the kernel and shadow-utils can store.
//!
//! Ignition checks no range. Kindling does, because one value in range of the JSON type
//! does something else than the config says: 4294967295 is `(uid_t) -1`, which `chown`
//! reads as "leave the owner unchanged", so the node would stay root's while the config
//! (and the log) say otherwise. Ids outside 0..=4294967294 cannot be stored at all.

use super::Ctx;
use crate::jp;
use crate::path::JsonPath;
use crate::types::Passwd;

/// The highest id a file or account can have: one below `(uid_t) -1`.
pub(crate) const MAX_ID: i64 = u32::MAX as i64 - 1;

pub(crate) fn check_id(ctx: &mut Ctx<'_>, id: Option<i64>, at: impl FnOnce() -> JsonPath) {
    let Some(id) = id else { return };
    if (0..=MAX_ID).contains(&id) {
        return;
    }
    let why = if id == -1 || id == i64::from(u32::MAX) {
        " (it is (uid_t) -1, which chown and useradd read as \"leave unchanged\")"
    } else {
        ""
    };
    ctx.error(
        at(),
        format!("id {id} is out of range: user and group ids go from 0 to {MAX_ID}{why}; pick an id in that range"),
    );
}

/// `passwd.users[].uid` and `passwd.groups[].gid`.
pub(crate) fn passwd(ctx: &mut Ctx<'_>, passwd: &Passwd) {
    for (i, u) in passwd.users.iter().enumerate() {
        check_id(ctx, u.uid, || jp!("passwd", "users", i, "uid"));
    }
    for (i, g) in passwd.groups.iter().enumerate() {
        check_id(ctx, g.gid, || jp!("passwd", "groups", i, "gid"));
    }
}

#[cfg(test)]
mod tests {
    use crate::validate::test_support::*;

    fn cfg(body: &str) -> String {
        format!(r#"{{"ignition":{{"version":"3.6.0"}},{body}}}"#)
    }

    // Issue 15, item 8: 4294967295 reached fchown as -1 and left the node root's.
    #[test]
    fn the_id_that_means_unchanged_is_refused_everywhere() {
        for (body, path) in [
            (
                r#""storage":{"files":[{"path":"/f","user":{"id":4294967295}}]}"#,
                "$.storage.files.0.user.id",
            ),
            (
                r#""storage":{"files":[{"path":"/f","group":{"id":4294967295}}]}"#,
                "$.storage.files.0.group.id",
            ),
            (
                r#""storage":{"directories":[{"path":"/d","user":{"id":4294967295}}]}"#,
                "$.storage.directories.0.user.id",
            ),
            (
                r#""storage":{"links":[{"path":"/l","target":"/f","group":{"id":4294967295}}]}"#,
                "$.storage.links.0.group.id",
            ),
            (
                r#""passwd":{"users":[{"name":"u","uid":4294967295}]}"#,
                "$.passwd.users.0.uid",
            ),
            (
                r#""passwd":{"groups":[{"name":"g","gid":4294967295}]}"#,
                "$.passwd.groups.0.gid",
            ),
        ] {
            assert_error(
                &cfg(body),
                path,
                "id 4294967295 is out of range: user and group ids go from 0 to 4294967294 (it is (uid_t) -1",
            );
        }
    }

    #[test]
    fn ids_outside_what_the_kernel_stores_are_refused() {
        assert_error(
            &cfg(r#""passwd":{"users":[{"name":"u","uid":-5}]}"#),
            "$.passwd.users.0.uid",
            "id -5 is out of range: user and group ids go from 0 to 4294967294; pick",
        );
        assert_error(
            &cfg(r#""storage":{"files":[{"path":"/f","user":{"id":4294967296}}]}"#),
            "$.storage.files.0.user.id",
            "id 4294967296 is out of range",
        );
    }

    #[test]
    fn ids_in_range_are_fine() {
        assert_clean(&cfg(
            r#""passwd":{"users":[{"name":"u","uid":0},{"name":"v","uid":4294967294}],"groups":[{"name":"g","gid":65534}]},"storage":{"files":[{"path":"/f","user":{"id":4294967294},"group":{"id":0}}]}"#,
        ));
    }
}
