//! Reading files and devices whose size the engine does not control (a config disk, a boot
//! FIFO, a spool file, a lease) to at most a limit, so none of them can exhaust the
//! initramfs's memory.

use std::io::{self, Read};
use std::path::Path;

/// What a bounded read found.
#[derive(Debug, PartialEq, Eq)]
pub enum Bounded {
    /// The whole file, at most the limit.
    Whole(Vec<u8>),
    /// The first `limit` bytes, and the byte after them: there is more.
    Cut { head: Vec<u8>, next: u8 },
}

/// Reads at most `limit` bytes of `path`, and one byte more to tell whether there is more.
pub fn read(path: &Path, limit: u64) -> io::Result<Bounded> {
    let file = std::fs::File::open(path)?;
    let mut bytes = Vec::new();
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        let next = bytes.pop().unwrap_or(0);
        Ok(Bounded::Cut { head: bytes, next })
    } else {
        Ok(Bounded::Whole(bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_most_the_limit_is_read_and_more_is_told() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("f");
        std::fs::write(&path, b"abcdef").expect("write");
        assert_eq!(
            read(&path, 6).expect("read"),
            Bounded::Whole(b"abcdef".to_vec())
        );
        assert_eq!(
            read(&path, 100).expect("read"),
            Bounded::Whole(b"abcdef".to_vec())
        );
        assert_eq!(
            read(&path, 4).expect("read"),
            Bounded::Cut {
                head: b"abcd".to_vec(),
                next: b'e'
            }
        );
    }

    #[test]
    fn an_endless_source_is_cut() {
        let Bounded::Cut { head, next } = read(Path::new("/dev/zero"), 1 << 20).expect("read")
        else {
            panic!("/dev/zero ended")
        };
        assert_eq!((head.len(), next), (1 << 20, 0));
    }
}
