//! Translation from older spec versions up to 3.6.0.
//!
//! Most of what changed between versions is handled when reading (fields a version lacks are
//! set aside by `gate`, and 3.0's separate reference types read as the one `Resource` type).
//! What is left are changes of meaning.

use crate::types::Config;
use crate::version::SpecVersion;

/// setuid, setgid and sticky.
pub(crate) const SPECIAL_MODE_BITS: i64 = 0o7000;

pub(crate) fn to_newest(version: SpecVersion, mut config: Config) -> Config {
    if version < SpecVersion::V3_6 {
        // Before 3.6.0 Ignition never applied special bits (validation warns about them), so
        // a translated config must not start applying them.
        let modes = config
            .storage
            .files
            .iter_mut()
            .map(|f| &mut f.mode)
            .chain(config.storage.directories.iter_mut().map(|d| &mut d.mode));
        for mode in modes.flatten() {
            if (0..=0o7777).contains(mode) {
                *mode &= !SPECIAL_MODE_BITS;
            }
        }
    }
    config.ignition.version = SpecVersion::NEWEST.to_string();
    config
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Directory, File};

    fn with_modes(file: i64, dir: i64) -> Config {
        let mut c = Config::default();
        c.storage.files.push(File {
            path: "/f".into(),
            mode: Some(file),
            ..File::default()
        });
        c.storage.directories.push(Directory {
            path: "/d".into(),
            mode: Some(dir),
            ..Directory::default()
        });
        c
    }

    #[test]
    fn special_bits_are_masked_before_3_6() {
        let c = to_newest(SpecVersion::V3_5, with_modes(0o4755, 0o1777));
        assert_eq!(c.storage.files[0].mode, Some(0o755));
        assert_eq!(c.storage.directories[0].mode, Some(0o777));
        assert_eq!(c.ignition.version, "3.6.0");
    }

    #[test]
    fn special_bits_are_kept_in_3_6() {
        let c = to_newest(SpecVersion::V3_6, with_modes(0o4755, 0o1777));
        assert_eq!(c.storage.files[0].mode, Some(0o4755));
        assert_eq!(c.storage.directories[0].mode, Some(0o1777));
    }
}
